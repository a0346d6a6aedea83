"""The managers' figures: one row schema per report, the fields of the rows
`backend.reports.selectors` returns (money as decimal strings, days and percentages as numbers,
null where there is nothing to divide by)."""

from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Schema

from mobile_api.schemas.common import example
from mobile_api.schemas.crm import CUSTOMER_ID, DEAL_ID

ALERT_ID = "8f7e6d5c-4b3a-4291-8e0f-1a2b3c4d5e6f"
CONFLICT_ID = "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f"


class RepDayOut(Schema):
    """One rep's day."""

    rep_id: int
    rep: str
    branch: str = Field(..., description="Branch code; empty when the rep has none")
    units: int
    revenue: Decimal
    rewards: Decimal
    visits: int
    new_customers: int
    deals_moved: int = Field(..., description="Deals that entered a stage or closed that day, each counted once")

    model_config = example(rep_id=4, rep="Wei Zhang", branch="WUH", units=3, revenue="360000.00", rewards="600.00",
                           visits=2, new_customers=1, deals_moved=1)


class SalesMonthOut(Schema):
    """One month's sales, in total or for one region, branch, product, division or rep."""

    month: date
    key: str = Field(..., description="What the row is for (a region or rep id, a branch or product code); "
                                      "empty for the total")
    label: str
    units: int
    revenue: Decimal
    cost: Decimal
    margin: Decimal
    reward: Decimal

    model_config = example(month="2026-11-01", key="1", label="Hubei", units=22, revenue="1134600.00",
                           cost="922300.00", margin="212300.00", reward="2060.00")


class GrowthOut(Schema):
    """One week or month against the one before."""

    period: date = Field(..., description="First day of the week or month")
    units: int
    revenue: Decimal
    units_change_pct: float | None
    revenue_change_pct: float | None
    partial: bool = Field(..., description="The current week or month, not over yet")

    model_config = example(period="2026-10-01", units=21, revenue="1462800.00", units_change_pct=-12.5,
                           revenue_change_pct=-8.3, partial=False)


class HotProductOut(Schema):
    product: str
    name: str
    recent_units: int
    previous_units: int
    growth_pct: float | None = Field(..., description="Null when nothing was sold in the period before")

    model_config = example(product="UNIK", name="Changan UNI-K", recent_units=6, previous_units=4, growth_pct=50.0)


class FulfilmentOut(Schema):
    """Average days per branch, or per month shipped, over the shipments that were received."""

    key: str
    label: str
    shipments: int
    order_to_ship_days: float | None
    ship_to_rep_told_days: float | None
    ship_to_receipt_days: float | None
    order_to_receipt_days: float | None

    model_config = example(key="WUH", label="WUH", shipments=12, order_to_ship_days=2.33, ship_to_rep_told_days=0.14,
                           ship_to_receipt_days=2.67, order_to_receipt_days=5.0)


class ForecastOut(Schema):
    """Open deals expected to close in one month (null: no expected close)."""

    period: date | None
    deals: int
    amount: Decimal
    weighted: Decimal = Field(..., description="Amount x stage probability")

    model_config = example(period="2026-12-01", deals=3, amount="1740000.00", weighted="635500.00")


class FunnelOut(Schema):
    """Open deals in one stage of a division's methodology."""

    division: str
    stage: str
    order: int
    probability: int
    deals: int
    amount: Decimal
    weighted: Decimal

    model_config = example(division="AUTO", stage="Qualified", order=2, probability=25, deals=3, amount="800000.00",
                           weighted="200000.00")


class AccuracyOut(Schema):
    """One month's snapshotted forecast against what was won, for a rep, a team or everyone."""

    level: str = Field(..., description='"rep", "team" (the manager\'s) or "all"')
    name: str
    period: date
    forecast: Decimal
    actual: Decimal
    accuracy_pct: float | None

    model_config = example(level="rep", name="Wei Zhang", period="2026-11-01", forecast="410000.00",
                           actual="360000.00", accuracy_pct=87.8)


class ConversionOut(Schema):
    division: str
    stage: str
    order: int
    entered: int
    advanced: int
    conversion_pct: float | None

    model_config = example(division="AUTO", stage="Test drive", order=3, entered=2, advanced=1, conversion_pct=50.0)


class TimeInStageOut(Schema):
    division: str
    stage: str
    order: int
    usual_days: int
    stays: int
    avg_days: float | None

    model_config = example(division="AUTO", stage="Qualified", order=2, usual_days=14, stays=3, avg_days=16.33)


class WinRateOut(Schema):
    """One rep's closed deals; the last row (no `rep_id`) is everyone's."""

    rep_id: int | None
    rep: str
    won: int
    lost: int
    abandoned: int
    win_rate_pct: float | None
    avg_cycle_days: float | None

    model_config = example(rep_id=5, rep="Na Li", won=1, lost=1, abandoned=0, win_rate_pct=50.0, avg_cycle_days=19.0)


class StalledDealOut(Schema):
    id: str
    name: str
    customer: str
    owner_id: int
    owner: str
    stage: str
    next_stage: str
    amount: Decimal
    idle_days: int
    days_in_stage: int
    usual_days: int
    suggestion: str = Field(..., description='"advance" or "abandon"')
    suggestion_text: str

    model_config = example(
        id=DEAL_ID, name="Wuhan Motors Ltd deal 2", customer="Wuhan Motors Ltd", owner_id=4, owner="Wei Zhang",
        stage="Qualified", next_stage="Test drive", amount="410000.00", idle_days=39, days_in_stage=39,
        usual_days=14, suggestion="abandon", suggestion_text="Abandon it, or re-engage the customer this week",
    )


class StakeholderGapOut(Schema):
    id: str
    name: str
    customer: str
    owner_id: int
    owner: str
    amount: Decimal
    decision_maker: str = Field(..., description="Empty when the customer has none")
    last_contacted: datetime | None

    model_config = example(
        id=DEAL_ID, name="Wuhan Motors Ltd deal 2", customer="Wuhan Motors Ltd", owner_id=4, owner="Wei Zhang",
        amount="410000.00", decision_maker="Mr. Gao Jun", last_contacted="2026-09-15T10:30:00+08:00",
    )


class CustomerValueOut(Schema):
    id: str
    name: str
    owner: str
    units: int
    revenue: Decimal
    cost: Decimal
    margin: Decimal
    margin_pct: float | None
    overdue_amount: Decimal
    overdue_orders: int

    model_config = example(
        id=CUSTOMER_ID, name="Wuhan Motors Ltd", owner="Wei Zhang", units=43, revenue="5160000.00",
        cost="4214000.00", margin="946000.00", margin_pct=18.3, overdue_amount="240000.00", overdue_orders=1,
    )


class FallingAccountOut(Schema):
    """A key account's units per complete month, oldest first."""

    customer_id: str
    customer: str
    owner_id: int
    months: list[date]
    units: list[int]
    reason: str = Field(..., description='"falling" or "sharp_drop"')

    model_config = example(
        customer_id=CUSTOMER_ID, customer="Wuhan Motors Ltd", owner_id=4,
        months=["2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01"],
        units=[0, 9, 10, 9, 7, 5, 3], reason="falling",
    )


class AlertOut(Schema):
    id: str
    kind: str = Field(..., description='"falling_account", "stalled_deal" or "stakeholder_gap"')
    created_at: datetime
    owner: str
    message: str

    model_config = example(id=ALERT_ID, kind="falling_account", created_at="2026-11-01T07:00:00+08:00",
                           owner="Wei Zhang", message="Wuhan Motors Ltd: monthly units 9→7→5→3 (falling)")


class OpenConflictOut(Schema):
    """A new customer that looked like another rep's, waiting for a manager's decision."""

    id: str
    created_at: datetime
    existing: str = Field(..., description="The customer it matched")
    existing_owner: str
    reported_by: str
    matched_on: str = Field(..., description='"phone" or "name"')
    source: str

    model_config = example(id=CONFLICT_ID, created_at="2026-11-22T15:20:00+08:00", existing="Wuhan Motors Ltd",
                           existing_owner="Wei Zhang", reported_by="Na Li", matched_on="phone", source="app")
