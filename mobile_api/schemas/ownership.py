"""Handovers, ownership over time, change logs and duplicate conflicts."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Schema

from mobile_api.schemas.common import USER_EXAMPLE, UserRef, example, example_of

CUSTOMER_REF_EXAMPLE = {"id": "0b6f3c1e-8a47-4d7e-9a51-6c2f0e4f1d11", "name": "Wuhan Motors Ltd"}
LI = {"id": 5, "name": "Na Li"}
WANG = {"id": 2, "name": "Fang Wang"}


class CustomerRef(Schema):
    id: UUID
    name: str

    model_config = example(**CUSTOMER_REF_EXAMPLE)


class HandoverIn(Schema):
    """Either `customer_ids`, or `from_user_id` for every customer of that rep (or both: that
    rep's customers among the ids). Customers are dealt in turn to the reps in `to_user_ids`."""

    reason: str
    to_user_ids: list[int]
    customer_ids: list[UUID] | None = None
    from_user_id: int | None = None

    model_config = example(reason="Wei Zhang left the company", to_user_ids=[5, 3], from_user_id=4)


class MovedOut(Schema):
    opportunities: list[str]
    orders: list[str]
    shipments: list[str]

    model_config = example(opportunities=["5d0c8a7e-1f2b-4c3d-8e9f-0a1b2c3d4e5f"], orders=["PO-1001"], shipments=[])


class HandoverLineOut(Schema):
    customer: CustomerRef
    from_user: UserRef
    to_user: UserRef
    moved: MovedOut

    model_config = example(customer=CUSTOMER_REF_EXAMPLE, from_user=USER_EXAMPLE, to_user=LI,
                           moved=example_of(MovedOut))


class HandoverOut(Schema):
    id: UUID
    created_at: datetime
    by: UserRef
    door: str
    reason: str
    items: list[HandoverLineOut]

    model_config = example(
        id="7e57d004-2b97-4e7a-b45f-5887e1b2f1a0", created_at="2026-11-23T10:00:00+08:00", by=WANG, door="app",
        reason="Wei Zhang left the company", items=[example_of(HandoverLineOut)],
    )

    @staticmethod
    def resolve_items(obj: Any) -> list:
        return list(obj.items.select_related("customer", "from_user", "to_user").order_by("customer__name"))


class HandoverItemOut(HandoverLineOut):
    """One customer of a handover, with the handover's who, when and why."""

    handover_id: UUID
    at: datetime
    by: UserRef
    reason: str

    model_config = example(**example_of(HandoverLineOut), handover_id="7e57d004-2b97-4e7a-b45f-5887e1b2f1a0",
                           at="2026-11-23T10:00:00+08:00", by=WANG, reason="Wei Zhang left the company")

    @staticmethod
    def resolve_at(obj: Any) -> datetime:
        return obj.handover.created_at

    @staticmethod
    def resolve_by(obj: Any) -> Any:
        return obj.handover.by

    @staticmethod
    def resolve_reason(obj: Any) -> str:
        return obj.handover.reason


class OwnershipPeriodOut(Schema):
    """One owner's time with a customer; `by`, `door` and `reason` say how it began."""

    owner: UserRef | None
    start: datetime
    end: datetime | None
    by: UserRef | None
    door: str
    reason: str

    model_config = example(owner=LI, start="2026-11-23T10:00:00+08:00", end=None, by=WANG, door="app",
                           reason="handover: Wei Zhang left the company")


class CustomerPeriodOut(OwnershipPeriodOut):
    customer: CustomerRef

    model_config = example(**example_of(OwnershipPeriodOut), customer=CUSTOMER_REF_EXAMPLE)

    @staticmethod
    def resolve_customer(obj: Any) -> Any:
        return obj.customer

    @staticmethod
    def resolve_owner(obj: Any) -> Any:
        return obj.period.owner

    @staticmethod
    def resolve_start(obj: Any) -> datetime:
        return obj.period.start

    @staticmethod
    def resolve_end(obj: Any) -> datetime | None:
        return obj.period.end

    @staticmethod
    def resolve_by(obj: Any) -> Any:
        return obj.period.by

    @staticmethod
    def resolve_door(obj: Any) -> str:
        return obj.period.door

    @staticmethod
    def resolve_reason(obj: Any) -> str:
        return obj.period.reason


class RepOwnershipOut(Schema):
    """What a rep handed over and received, and every period they owned a customer."""

    handed_over: list[HandoverItemOut]
    received: list[HandoverItemOut]
    periods: list[CustomerPeriodOut]

    model_config = example(handed_over=[example_of(HandoverItemOut)], received=[],
                           periods=[example_of(CustomerPeriodOut)])


class BriefContactOut(Schema):
    name: str
    title: str
    phone: str | None
    buying_role: str
    buying_role_label: str
    is_key: bool


class BriefDealOut(Schema):
    id: str
    name: str
    stage: str
    probability: int
    amount: str
    expected_close: str | None
    next_step: str


class BriefActivityOut(Schema):
    kind: str
    occurred_at: str
    rep: str
    note: str


class BriefOrderOut(Schema):
    number: str
    status: str
    amount: str
    ordered_at: str
    rep: str


class BriefingOut(Schema):
    """What a new owner needs on day one (also sent in the handover notification's data)."""

    customer_id: str
    name: str
    phone: str | None
    is_key_account: bool
    notes: str
    key_contacts: list[BriefContactOut]
    open_deals: list[BriefDealOut]
    last_activities: list[BriefActivityOut]
    last_orders: list[BriefOrderOut]

    model_config = example(
        customer_id=CUSTOMER_REF_EXAMPLE["id"], name="Wuhan Motors Ltd", phone="+862787000001", is_key_account=True,
        notes="Pays on time; fleet renewal every spring.",
        key_contacts=[{"name": "Mr. Gao Jun", "title": "General manager", "phone": "+8613900000101",
                       "buying_role": "decision_maker", "buying_role_label": "Decision maker", "is_key": True}],
        open_deals=[{"id": "5d0c8a7e-1f2b-4c3d-8e9f-0a1b2c3d4e5f", "name": "Fleet renewal 2027",
                     "stage": "Negotiation", "probability": 75, "amount": "1450000.00",
                     "expected_close": "2026-12-20", "next_step": "Send the revised quote"}],
        last_activities=[{"kind": "visit", "occurred_at": "2026-11-20T10:00:00+08:00", "rep": "Wei Zhang",
                          "note": "Test drive of the CS75"}],
        last_orders=[{"number": "PO-1001", "status": "confirmed", "amount": "240000.00",
                      "ordered_at": "2026-11-20T09:00:00+08:00", "rep": "Na Li"}],
    )


class FieldChangeOut(Schema):
    field: str
    label: str
    old: Any
    new: Any

    model_config = example(field="owner", label="owner", old="Wei Zhang", new="Na Li")


class ChangeOut(Schema):
    """One change: who (a person, an API key, or the system), through which door, what changed."""

    at: datetime
    action: Literal["created", "changed", "deleted"]
    who: str
    user: UserRef | None
    door: str
    api_key_name: str
    reason: str
    changes: list[FieldChangeOut]

    model_config = example(at="2026-11-23T10:00:00+08:00", action="changed", who="Fang Wang", user=WANG,
                           door="app", api_key_name="", reason="handover: Wei Zhang left the company",
                           changes=[example_of(FieldChangeOut)])


class ConflictCustomerOut(Schema):
    id: UUID
    name: str
    owner: UserRef

    model_config = example(**CUSTOMER_REF_EXAMPLE, owner=USER_EXAMPLE)


class ConflictOut(Schema):
    id: UUID
    created_at: datetime
    status: str
    source: str
    matched_on: str
    reported_by: UserRef
    existing: ConflictCustomerOut
    candidate: ConflictCustomerOut | None
    resolved_by: UserRef | None
    resolved_at: datetime | None
    resolution_note: str

    model_config = example(
        id="3c9a8e1f-5b2d-4f6a-9c7e-1d2b3a4c5e6f", created_at="2026-11-23T09:30:00+08:00", status="open",
        source="import", matched_on="name", reported_by=LI, existing=example_of(ConflictCustomerOut),
        candidate={"id": "9f8e7d6c-5b4a-4321-8fed-cba987654321", "name": "Wuhan Motors Co.", "owner": LI},
        resolved_by=None, resolved_at=None, resolution_note="",
    )


class ConflictSideOut(Schema):
    id: UUID
    name: str
    phone: str | None
    address: str
    owner: UserRef
    is_key_account: bool
    created_at: datetime
    merged_into: UUID | None
    contacts: int
    open_opportunities: int
    activities: int
    orders: int
    sales: int

    model_config = example(
        **CUSTOMER_REF_EXAMPLE, phone="+862787000001", address="Hubei", owner=USER_EXAMPLE, is_key_account=True,
        created_at="2025-05-01T09:00:00+08:00", merged_into=None, contacts=2, open_opportunities=2,
        activities=17, orders=7, sales=43,
    )


class ConflictDetailOut(Schema):
    """Both records side by side (for managers only), and what the rep tried to save."""

    conflict: ConflictOut
    existing: ConflictSideOut
    candidate: ConflictSideOut | None
    proposed: dict

    model_config = example(conflict=example_of(ConflictOut), existing=example_of(ConflictSideOut),
                           candidate=None, proposed={"name": "Wuhan Motors", "phone": "+862787000001"})


class ResolveIn(Schema):
    """`merge` (keep `existing` or `candidate`; the other moves into it), `assign` (hand the
    customer to `owner_id`), or `dismiss` (two distinct customers)."""

    action: Literal["merge", "assign", "dismiss"]
    keep: Literal["existing", "candidate"] = "existing"
    owner_id: int | None = None
    note: str = ""

    model_config = example(action="merge", keep="existing", note="Same company, two spellings")
