"""The figures by name: one table that the dashboard, its CSV downloads and the dashboard's
live refresh all read, so a figure is defined once."""

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.core.errors import ApplicationError
from backend.reports import selectors as s

MAX_MONTHS = 36


@dataclass(frozen=True)
class Params:
    """What a reader may choose: the day of the reps' table and how many months back."""

    day: date
    months: int

    @classmethod
    def parse(cls, query: Any) -> "Params":
        """From a query string (`day=2025-06-01&months=12`); bad values are the caller's 400."""
        try:
            day = date.fromisoformat(query["day"]) if query.get("day") else timezone.localdate()
            months = int(query.get("months") or 12)
        except ValueError:
            raise ApplicationError(_("Use day=YYYY-MM-DD and months=1 to 36."), code="bad_parameters") from None
        if not 1 <= months <= MAX_MONTHS:
            raise ApplicationError(_("Use day=YYYY-MM-DD and months=1 to 36."), code="bad_parameters")
        return cls(day=day, months=months)


@dataclass(frozen=True)
class Figure:
    """`rows(user, params)` gives every row, as the CSV download has them. A figure the page shows
    less of (the first rows of a long list, its two ends, one level of it) says so in `page`, which
    reads only that in the database: a page never reads thousands of rows to show twenty."""

    title: Any
    row: type
    rows: Callable[[Any, Params], list]
    page: Callable[[Any, Params], list] | None = None

    @property
    def columns(self) -> list[str]:
        return [f.name for f in fields(self.row)]

    def page_rows(self, user: Any, params: Params) -> list:
        """What the dashboard page and its live refresh show."""
        return (self.page or self.rows)(user, params)


# The page shows the first stalled deals, the most and the least profitable customers, and the
# forecast's accuracy for everyone in scope.
STALLED_ON_PAGE = 20
CUSTOMERS_AT_EACH_END = 5


FIGURES: dict[str, Figure] = {
    "rep-day": Figure(_("Reps' day"), s.RepDay, lambda u, p: s.rep_day(user=u, day=p.day)),
    "sales-by-region": Figure(_("Sales by region"), s.MonthRow,
                              lambda u, p: s.sales_by_month(user=u, by="region", months=p.months)),
    "sales-by-branch": Figure(_("Sales by branch"), s.MonthRow,
                              lambda u, p: s.sales_by_month(user=u, by="branch", months=p.months)),
    "sales-by-product": Figure(_("Sales by product"), s.MonthRow,
                               lambda u, p: s.sales_by_month(user=u, by="product", months=p.months)),
    "sales-by-rep": Figure(_("Sales by rep"), s.MonthRow,
                           lambda u, p: s.sales_by_month(user=u, by="rep", months=p.months)),
    "reward-spend": Figure(_("Reward spend by division"), s.MonthRow,
                           lambda u, p: s.sales_by_month(user=u, by="division", months=p.months)),
    "growth-weekly": Figure(_("Growth week on week"), s.GrowthRow,
                            lambda u, p: s.growth(user=u, grain="week", periods=12)),
    "growth-monthly": Figure(_("Growth month on month"), s.GrowthRow,
                             lambda u, p: s.growth(user=u, grain="month", periods=p.months)),
    "hot-products": Figure(_("Hot products"), s.HotProduct, lambda u, p: s.hot_products(user=u)),
    "fulfilment-by-branch": Figure(_("Order to receipt by branch"), s.FulfilmentRow,
                                   lambda u, p: s.fulfilment_times(user=u, by="branch", months=p.months)),
    "fulfilment-by-month": Figure(_("Order to receipt by month"), s.FulfilmentRow,
                                  lambda u, p: s.fulfilment_times(user=u, by="month", months=p.months)),
    "pipeline-forecast": Figure(_("Weighted forecast"), s.ForecastRow, lambda u, p: s.pipeline_forecast(user=u)),
    "pipeline-funnel": Figure(_("Pipeline funnel"), s.FunnelRow, lambda u, p: s.pipeline_funnel(user=u)),
    "forecast-accuracy": Figure(_("Forecast vs actual"), s.AccuracyRow,
                                lambda u, p: s.forecast_accuracy(user=u, months=p.months),
                                page=lambda u, p: s.forecast_accuracy(user=u, months=p.months, overall_only=True)),
    "stage-conversion": Figure(_("Stage conversion"), s.ConversionRow,
                               lambda u, p: s.stage_conversion(user=u, months=p.months)),
    "time-in-stage": Figure(_("Time in stage"), s.StageTimeRow, lambda u, p: s.time_in_stage(user=u, months=p.months)),
    "win-rates": Figure(_("Win rate and cycle"), s.WinRow, lambda u, p: s.win_rates(user=u, months=p.months)),
    "stalled-deals": Figure(_("Stalled deals"), s.StalledDeal, lambda u, p: s.stalled_deals(user=u),
                            page=lambda u, p: s.stalled_deals(user=u, limit=STALLED_ON_PAGE)),
    "stakeholder-gaps": Figure(_("Stakeholder gaps"), s.StakeholderGap, lambda u, p: s.stakeholder_gaps(
        user=u, min_amount=Decimal(settings.STAKEHOLDER_GAP_MIN_AMOUNT))),
    "customer-value": Figure(_("Customer value"), s.CustomerValue,
                             lambda u, p: s.customer_value(user=u, months=p.months),
                             page=lambda u, p: s.customer_value(user=u, months=p.months, ends=CUSTOMERS_AT_EACH_END)),
    "falling-accounts": Figure(_("Falling key accounts"), s.FallingAccount,
                               lambda u, p: s.falling_key_accounts(user=u)),
    "alerts": Figure(_("Alerts"), s.AlertRow, lambda u, p: s.recent_alerts(user=u)),
    "conflicts": Figure(_("Open conflicts"), s.ConflictRow, lambda u, p: s.open_conflicts(user=u)),
}


def as_dicts(rows: list) -> list[dict]:
    return [asdict(row) for row in rows]
