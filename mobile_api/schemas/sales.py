"""Orders, shipments, sales and rewards."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ninja import Field, Schema

from mobile_api.schemas.common import USER_EXAMPLE, UserRef, example, example_of
from mobile_api.schemas.crm import CUSTOMER_ID, STAMPS

ORDER_ID = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
SHIPMENT_ID = "7e6d5c4b-3a29-4f18-8e07-d6c5b4a39281"
SALE_ID = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"


class ShipmentOut(Schema):
    id: UUID
    order_id: UUID
    order_number: str
    reference: str
    carrier: str
    tracking: str
    eta: date | None
    shipped_at: datetime
    channel: str
    rep_notified_at: datetime | None
    customer_told_at: datetime | None
    received_at: datetime | None
    created_at: datetime
    updated_at: datetime

    model_config = example(
        id=SHIPMENT_ID, order_id=ORDER_ID, order_number="PO-1001", reference="H1042", carrier="SF",
        tracking="SF1234567", eta="2026-11-25", shipped_at="2026-11-23T08:40:00+08:00", channel="sms",
        rep_notified_at="2026-11-23T08:40:00+08:00", customer_told_at=None, received_at=None, **STAMPS,
    )

    @staticmethod
    def resolve_order_number(obj: Any) -> str:
        return obj.order.number


class OrderLineOut(Schema):
    product: str
    quantity: int
    unit_price: Decimal

    model_config = example(product="CS75", quantity=2, unit_price="120000.00")

    @staticmethod
    def resolve_product(obj: Any) -> str:
        return obj.product.code


class OrderOut(Schema):
    id: UUID
    number: str
    customer_id: UUID
    customer_name: str
    rep: UserRef
    status: str
    amount: Decimal
    ordered_at: datetime
    due_date: date | None
    paid_date: date | None
    lines: list[OrderLineOut]
    shipments: list[ShipmentOut]
    created_at: datetime
    updated_at: datetime

    model_config = example(
        id=ORDER_ID, number="PO-1001", customer_id=CUSTOMER_ID, customer_name="Wuhan Motors Ltd", rep=USER_EXAMPLE,
        status="shipped", amount="240000.00", ordered_at="2026-11-20T11:00:00+08:00", due_date=None, paid_date=None,
        lines=[example_of(OrderLineOut)], shipments=[example_of(ShipmentOut)], **STAMPS,
    )

    @staticmethod
    def resolve_customer_name(obj: Any) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_lines(obj: Any) -> list:
        return list(obj.lines.all())

    @staticmethod
    def resolve_shipments(obj: Any) -> list:
        return list(obj.shipments.all())


class ShipmentIn(Schema):
    """A shipment on an order, from the warehouse or ERP: the order's rep is texted and pushed at
    once (the same loop as the SMS `SHIP`)."""

    id: UUID | None = None
    order_number: str = Field(..., min_length=1, max_length=32)
    carrier: str = Field("", max_length=50)
    tracking: str = Field("", max_length=80)
    eta: date | None = None

    model_config = example(id=SHIPMENT_ID, order_number="PO-1001", carrier="SF", tracking="SF1234567", eta="2026-11-25")


class SaleIn(Schema):
    """A sale, by the same rules as the SMS `SOLD`: one unit per serial, a serial is rewarded
    once, a phone of another rep's customer opens a conflict instead of revealing it."""

    ids: list[UUID] | None = Field(None, description="Client-made ids, one per unit")
    product: str = Field(..., min_length=1, max_length=32, description="Product code")
    quantity: int | None = Field(None, ge=1, le=999)
    serials: list[str] = Field(default_factory=list, max_length=999)
    customer_id: UUID | None = None
    customer: str | None = Field(None, max_length=200, description="Or: a phone number or the start of a name")
    sold_at: datetime | None = None

    model_config = example(product="CS75", serials=["LFV3A28K5L3012345"], customer_id=CUSTOMER_ID)


class RewardOut(Schema):
    id: UUID
    sale_id: UUID
    amount: Decimal
    status: str
    created_at: datetime
    updated_at: datetime

    model_config = example(id="5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", sale_id=SALE_ID, amount="200.00",
                           status="pending", **STAMPS)


class SaleOut(Schema):
    id: UUID
    reference: str
    product: str
    customer_id: UUID | None
    serial: str | None
    unit_price: Decimal
    channel: str
    sold_at: datetime
    voided_at: datetime | None
    created_at: datetime
    updated_at: datetime

    model_config = example(
        id=SALE_ID, reference="S4821", product="CS75", customer_id=CUSTOMER_ID, serial="LFV3A28K5L3012345",
        unit_price="120000.00", channel="app", sold_at="2026-11-23T16:05:00+08:00", voided_at=None, **STAMPS,
    )

    @staticmethod
    def resolve_product(obj: Any) -> str:
        return obj.product.code


class SaleReportOut(Schema):
    reference: str
    product: str
    quantity: int
    sales: list[SaleOut]
    reward_total: Decimal
    customer_id: UUID | None
    conflict_opened: bool

    model_config = example(
        reference="S4821", product="CS75", quantity=1, sales=[example_of(SaleOut)], reward_total="200.00",
        customer_id=CUSTOMER_ID, conflict_opened=False,
    )

    @staticmethod
    def resolve_product(obj: Any) -> str:
        return obj.product.code

    @staticmethod
    def resolve_quantity(obj: Any) -> int:
        return len(obj.sales)

    @staticmethod
    def resolve_customer_id(obj: Any) -> UUID | None:
        return obj.customer.pk if obj.customer else None


class UndoIn(Schema):
    reference: str | None = Field(None, max_length=16, description="Default: your last report")

    model_config = example(reference="S4821")


class UndoOut(Schema):
    reference: str
    voided_at: datetime

    model_config = example(reference="S4821", voided_at="2026-11-23T16:12:00+08:00")


class TallyOut(Schema):
    sales_today: int
    rewards_today: Decimal
    sales_month: int
    rewards_month: Decimal
    awaiting_ok: list[str]

    model_config = example(sales_today=2, rewards_today="400.00", sales_month=17, rewards_month="3100.00",
                           awaiting_ok=["PO-1001"])
