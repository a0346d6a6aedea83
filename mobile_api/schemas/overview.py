from datetime import datetime

from ninja import Schema

from mobile_api.schemas.common import USER_EXAMPLE, UserRef, example, example_of
from mobile_api.schemas.crm import ActivityOut, ContactOut, CustomerOut, OpportunityOut
from mobile_api.schemas.sales import OrderOut, SaleOut


class OwnerPeriodOut(Schema):
    owner: UserRef
    start: datetime
    end: datetime | None

    model_config = example(owner=USER_EXAMPLE, start="2025-03-01T09:00:00+08:00", end=None)


class CustomerOverviewOut(Schema):
    """The whole customer in one call: contacts and their buying roles, open deals, orders with
    their shipments, recent visits and sales, and who owned it before."""

    customer: CustomerOut
    contacts: list[ContactOut]
    open_opportunities: list[OpportunityOut]
    orders: list[OrderOut]
    activities: list[ActivityOut]
    sales: list[SaleOut]
    units_sold: int
    owners: list[OwnerPeriodOut]

    model_config = example(
        customer=example_of(CustomerOut), contacts=[example_of(ContactOut)],
        open_opportunities=[example_of(OpportunityOut)], orders=[example_of(OrderOut)],
        activities=[example_of(ActivityOut)], sales=[example_of(SaleOut)], units_sold=43,
        owners=[{"owner": {"id": 5, "name": "Na Li"}, "start": "2024-06-01T09:00:00+08:00",
                 "end": "2025-03-01T09:00:00+08:00"}, example_of(OwnerPeriodOut)],
    )


class CallerOut(Schema):
    """Who is calling: the contact whose number it is (if it is a contact's), and the customer."""

    matched_contact: ContactOut | None
    overview: CustomerOverviewOut

    model_config = example(matched_contact=example_of(ContactOut), overview=example_of(CustomerOverviewOut))


