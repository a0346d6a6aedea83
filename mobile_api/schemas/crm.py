"""Customers, contacts, opportunities and activities: separate In and Out schemas, explicit fields."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema

from mobile_api.schemas.common import USER_EXAMPLE, UserRef, example, example_of

CUSTOMER_ID = "3f1c2a9e-8b7d-4c6e-9a5f-0d1e2f3a4b5c"
CONTACT_ID = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d"
DEAL_ID = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
ACTIVITY_ID = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
STAMPS = {"created_at": "2026-11-02T10:15:00+08:00", "updated_at": "2026-11-23T09:30:00+08:00"}


class CustomerIn(Schema):
    """A new customer. `id` may be made by the client (offline); a phone or name another rep's
    customer already has answers 409 with a `conflict_id` and nothing about that customer."""

    id: UUID | None = None
    name: str = Field(..., min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=32)
    region: str | None = Field(None, max_length=32, description="Region code, e.g. HB")
    address: str = Field("", max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    is_key_account: bool = False
    payment_terms_days: int = Field(30, ge=0, le=365)
    notes: str = ""
    owner_id: int | None = Field(None, description="Managers only: the rep of their team who owns it")

    model_config = example(
        id=CUSTOMER_ID, name="Jiangxia Motors Co., Ltd.", phone="027-8700 0009", region="HB",
        address="Jiangxia District, Wuhan", latitude=30.3752, longitude=114.3212, is_key_account=False,
        payment_terms_days=30, notes="Met at the Wuhan auto show",
    )


class CustomerPatch(Schema):
    """Only the fields given change. Send `If-Match` with the version you edited."""

    name: str | None = Field(None, min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=32)
    region: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    is_key_account: bool | None = None
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    notes: str | None = None

    model_config = example(phone="+862787000019", notes="New purchasing manager from December")


CUSTOMER_EXAMPLE = {
    "id": CUSTOMER_ID, "name": "Wuhan Motors Ltd", "phone": "+862787000001", "region": "HB",
    "address": "Hubei", "latitude": 30.5928, "longitude": 114.3055, "is_key_account": True,
    "payment_terms_days": 30, "notes": "", "owner": USER_EXAMPLE, "version": 3, **STAMPS,
}


class CustomerOut(Schema):
    id: UUID
    name: str
    phone: str | None
    region: str | None
    address: str
    latitude: float | None
    longitude: float | None
    is_key_account: bool
    payment_terms_days: int
    notes: str
    owner: UserRef
    version: int
    created_at: datetime
    updated_at: datetime

    model_config = example(**CUSTOMER_EXAMPLE)

    @staticmethod
    def resolve_region(obj: Any) -> str | None:
        return obj.region.code if obj.region_id else None


BuyingRoleName = Literal["decision_maker", "influencer", "user", "gatekeeper"]


class ContactIn(Schema):
    id: UUID | None = None
    customer_id: UUID
    name: str = Field(..., min_length=1, max_length=200)
    title: str = Field("", max_length=100)
    phone: str | None = Field(None, max_length=32)
    buying_role: BuyingRoleName = "user"
    is_key: bool = False
    purchase_criteria: str = ""

    model_config = example(
        id=CONTACT_ID, customer_id=CUSTOMER_ID, name="Ms. Sun Li", title="Fleet manager", phone="+8613900000102",
        buying_role="influencer", is_key=True, purchase_criteria="Reliability, service network",
    )


class ContactPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    title: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=32)
    buying_role: BuyingRoleName | None = None
    is_key: bool | None = None
    purchase_criteria: str | None = None
    last_contacted_at: datetime | None = None

    model_config = example(buying_role="decision_maker", last_contacted_at="2026-11-23T10:00:00+08:00")


class ContactOut(Schema):
    id: UUID
    customer_id: UUID
    name: str
    title: str
    phone: str | None
    buying_role: str
    is_key: bool
    purchase_criteria: str
    last_contacted_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    model_config = example(
        id=CONTACT_ID, customer_id=CUSTOMER_ID, name="Mr. Gao Jun", title="General manager", phone="+8613900000101",
        buying_role="decision_maker", is_key=True, purchase_criteria="Total cost of ownership, delivery date",
        last_contacted_at=None, version=1, **STAMPS,
    )


class StageOut(Schema):
    id: int
    division: str
    name: str
    order: int
    probability: int
    entry_criteria: str
    usual_days: int

    model_config = example(
        id=3, division="AUTO", name="Test drive", order=3, probability=50, entry_criteria="Ready for test drive",
        usual_days=10,
    )

    @staticmethod
    def resolve_division(obj: Any) -> str:
        return obj.division.code


class OpportunityIn(Schema):
    id: UUID | None = None
    customer_id: UUID
    name: str = Field(..., min_length=1, max_length=200)
    stage_id: int
    amount: Decimal = Field(..., ge=0, max_digits=14, decimal_places=2)
    expected_close: date | None = None
    next_step: str = Field("", max_length=300)

    model_config = example(
        id=DEAL_ID, customer_id=CUSTOMER_ID, name="12 CS75 for the taxi fleet", stage_id=1, amount="1440000.00",
        expected_close="2027-01-15", next_step="Arrange test drives",
    )


class OpportunityPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    expected_close: date | None = None
    next_step: str | None = Field(None, max_length=300)

    model_config = example(amount="1560000.00", next_step="Send the revised quote")


class StageMoveIn(Schema):
    stage_id: int

    model_config = example(stage_id=3)


class CloseIn(Schema):
    outcome: Literal["won", "lost", "abandoned"]
    reason: str = Field("", max_length=300, description="Required when lost or abandoned")

    model_config = example(outcome="lost", reason="Competitor offered 60-day payment terms")


class OpportunityOut(Schema):
    id: UUID
    customer_id: UUID
    owner: UserRef
    name: str
    stage: StageOut
    amount: Decimal
    expected_close: date | None
    next_step: str
    status: str
    close_reason: str
    closed_at: datetime | None
    stage_entered_at: datetime
    version: int
    created_at: datetime
    updated_at: datetime

    model_config = example(
        id=DEAL_ID, customer_id=CUSTOMER_ID, owner=USER_EXAMPLE, name="12 CS75 for the taxi fleet",
        stage=example_of(StageOut), amount="1440000.00", expected_close="2027-01-15", next_step="Arrange test drives",
        status="open", close_reason="", closed_at=None, stage_entered_at="2026-11-20T09:00:00+08:00", version=2,
        **STAMPS,
    )


class LocationIn(Schema):
    latitude: float = Field(..., ge=-90, le=90)
    longitude: float = Field(..., ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, description="The fix's accuracy radius in metres")
    fixed_at: datetime = Field(..., description="When the phone took the fix (not when it was sent)")

    model_config = example(latitude=30.5931, longitude=114.3049, accuracy_m=12.5, fixed_at="2026-11-23T10:02:00+08:00")


class CheckInIn(Schema):
    """A visit starts. The location is kept as given and flagged `far`, `stale` or `suspicious`
    when it does not look like the rep is at the customer now."""

    id: UUID | None = None
    customer_id: UUID
    opportunity_id: UUID | None = None
    contact_id: UUID | None = None
    note: str = ""
    location: LocationIn | None = None

    model_config = example(
        id=ACTIVITY_ID, customer_id=CUSTOMER_ID, opportunity_id=DEAL_ID, note="Quarterly review",
        location=example_of(LocationIn),
    )


class CheckOutIn(Schema):
    note: str = ""

    model_config = example(note="They want a test drive of the UNI-K next week")


class ActivityIn(Schema):
    """A call, a meeting or a note (visits start with check-in)."""

    id: UUID | None = None
    customer_id: UUID
    kind: Literal["call", "meeting", "note", "visit"] = "call"
    note: str = ""
    occurred_at: datetime | None = None
    opportunity_id: UUID | None = None
    contact_id: UUID | None = None

    model_config = example(
        id=ACTIVITY_ID, customer_id=CUSTOMER_ID, kind="call", note="Confirmed the delivery date",
        occurred_at="2026-11-23T15:20:00+08:00", contact_id=CONTACT_ID,
    )


class ActivityOut(Schema):
    id: UUID
    customer_id: UUID
    rep: UserRef
    opportunity_id: UUID | None
    contact_id: UUID | None
    kind: str
    channel: str
    note: str
    occurred_at: datetime
    checked_out_at: datetime | None
    latitude: float | None
    longitude: float | None
    location_accuracy_m: float | None
    location_fixed_at: datetime | None
    location_flag: str
    distance_m: float | None
    reference: str
    voided_at: datetime | None
    created_at: datetime
    updated_at: datetime

    model_config = example(
        id=ACTIVITY_ID, customer_id=CUSTOMER_ID, rep=USER_EXAMPLE, opportunity_id=DEAL_ID, contact_id=None,
        kind="visit", channel="app", note="Quarterly review", occurred_at="2026-11-23T10:02:30+08:00",
        checked_out_at=None, latitude=30.5931, longitude=114.3049, location_accuracy_m=12.5,
        location_fixed_at="2026-11-23T10:02:00+08:00", location_flag="ok", distance_m=64.2, reference="V2417",
        voided_at=None, **STAMPS,
    )
