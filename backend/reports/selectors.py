"""The managers' figures. Every public selector takes the acting user and reads through
`backend.org.scoping` (a manager sees the team below them, an executive everything); the
alert jobs call the `*_among` cores with querysets of their own (the whole company).

Aggregation happens in the database (GROUP BY, TruncMonth/TruncWeek, subqueries), the same
queries on SQLite and PostgreSQL. Sales read the roll-up tables for the complete quarters,
months, weeks and days that are built and aggregate the rest (today at least) live, so a sale
shows at once; shipments likewise by month. A list the page shows only part of is cut in the
database (`limit`, `ends`, `overall_only`), the CSV download reads it whole.
"""

import operator
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import reduce
from itertools import pairwise
from typing import Any

from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DateField,
    DateTimeField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Greatest, TruncDate, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.crm.models import (
    Activity,
    ActivityKind,
    BuyingRole,
    ConflictStatus,
    Contact,
    Customer,
    DuplicateConflict,
    Opportunity,
    OpportunityStatus,
    Stage,
    StageEntry,
)
from backend.org.models import Branch, Division, Region, Role, User
from backend.org.scoping import scope, visible_users
from backend.reports.models import (
    Alert,
    AlertKind,
    CustomerTotals,
    ForecastSnapshot,
    FulfilmentTotals,
    Grain,
    RepProductTotals,
    RepTotals,
    RollupPeriod,
)
from backend.sales.models import Order, OrderStatus, Product, RewardStatus, Sale, Shipment

ZERO = Decimal(0)
CENT = Decimal("0.01")

# ---------------------------------------------------------------------------------------------
# Calendar helpers (local time: a day and a month are the company's, not UTC's)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def period_start(grain: str, day: date) -> date:
    """The first day of the roll-up period of `grain` that holds `day`."""
    starts = {Grain.DAY: lambda d: d, Grain.WEEK: week_start, Grain.MONTH: month_start, Grain.QUARTER: quarter_start}
    return starts[grain](day)


def period_end(grain: str, start: date) -> date:
    """The day after the period of `grain` that begins on `start`."""
    if grain in (Grain.DAY, Grain.WEEK):
        return start + timedelta(days=1 if grain == Grain.DAY else 7)
    return add_months(start, 3 if grain == Grain.QUARTER else 1)


def periods(grain: str, first: date, last: date) -> list[date]:
    """The starts of the periods of `grain` from the one holding `first` to the last one that
    ends by `last` (included)."""
    found, start = [], period_start(grain, first)
    while period_end(grain, start) <= last + timedelta(days=1):
        found.append(start)
        start = period_end(grain, start)
    return found


def midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def months_between(first: date, last: date) -> list[date]:
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days merged: [(first, last), …]."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(a, b) for a, b in runs]


def _in_days(days: Iterable[date], field: str, *, moments: bool) -> Q:
    """`field` within these days, as few ranges as possible; `moments`: a datetime field, whose
    days are the company's (local midnight to midnight)."""
    condition = Q(pk__in=[])
    for first, last in _runs(days):
        if moments:
            condition |= Q(**{f"{field}__gte": midnight(first), f"{field}__lt": midnight(last + timedelta(days=1))})
        else:
            condition |= Q(**{f"{field}__gte": first, f"{field}__lte": last})
    return condition


def _within(rows: QuerySet, path: str, scoped: QuerySet) -> QuerySet:
    """`rows` whose `path` is one of `scoped`; when the scope narrows nothing (an executive), no
    condition at all: matching every row against a whole table costs a join and gains nothing."""
    return rows.filter(**{f"{path}__in": scoped.values("pk")}) if scoped.query.has_filters() else rows


def _pct(new: Decimal | int, old: Decimal | int) -> float | None:
    return None if not old else round(float((Decimal(new) - Decimal(old)) / Decimal(old) * 100), 1)


def _days(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 86400, 2)


def _money(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(CENT)


# ---------------------------------------------------------------------------------------------
# Sales totals: the one aggregation, used live and to build the roll-ups


def valid_sales() -> QuerySet[Sale]:
    return Sale.objects.filter(voided_at__isnull=True)


def live_totals() -> dict:
    """Units, revenue, product cost and live rewards of a group of sales."""
    return {
        "units": Count("pk"),
        "revenue": Sum("unit_price"),
        "cost": Sum("product__cost"),
        "reward": Sum("reward__amount", filter=~Q(reward__status=RewardStatus.CANCELLED)),
    }


ROLLUP_TOTALS = {"units": Sum("units"), "revenue": Sum("revenue"), "cost": Sum("cost"), "reward": Sum("reward")}
BUCKETS = {"month": TruncMonth, "week": TruncWeek}


MEASURES = ("units", "revenue", "cost", "reward")
# The roll-up rows a group may be made of: a quarter only when not grouped by time, a week
# (Monday to Sunday) in a month's group only when it lies in that month.
GRAINS = {None: (Grain.QUARTER, Grain.MONTH, Grain.WEEK, Grain.DAY), "month": (Grain.MONTH, Grain.WEEK, Grain.DAY),
          "week": (Grain.WEEK, Grain.DAY)}


def _grouped(
    *, rollup: QuerySet, live: QuerySet[Sale], first: date, last: date, key: str | None, by: str | None,
    measures: tuple[str, ...] = MEASURES,
) -> list[QuerySet]:
    """The totals over the days `first`..`last` (today at most) per (month or week start, `key`),
    as querysets of the same columns: [bucket], [key], then `measures` (of units, revenue, cost
    and reward).

    The longest complete periods that are rolled up and fit (quarters, months, weeks, then days)
    come from their roll-up rows, in one query; the rest (today at least) live from `live`. A
    group may come from both.
    """
    today = timezone.localdate()
    last = min(last, today)
    if last < first:
        return []
    built = set(RollupPeriod.objects.filter(start__gte=first, start__lte=last).values_list("grain", "start"))
    left = set(days_between(first, last))
    rolled = []
    for grain in GRAINS[by]:
        starts = []
        for start in periods(grain, first, last):
            end = period_end(grain, start)
            days = set(days_between(start, end - timedelta(days=1)))
            split = by == "month" and grain == Grain.WEEK and start.month != (end - timedelta(days=1)).month
            if start >= first and (grain, start) in built and days <= left and not split:
                starts.append(start)
                left -= days
        if starts:
            rolled.append(Q(grain=grain) & (_in_days(starts, "period", moments=False) if grain == Grain.DAY
                                            else Q(period__in=starts)))
    sources = [(rollup.filter(reduce(operator.or_, rolled)), "period", ROLLUP_TOTALS)] if rolled else []
    if left:
        sources.append((live.filter(_in_days(left, "sold_at", moments=True)), "sold_at", live_totals()))
    keys = ["bucket"] if by else []
    if key:
        keys.append(key)
    grouped = []
    for queryset, when, totals in sources:
        queryset = queryset.order_by()
        if by:
            bucket = BUCKETS[by](when, output_field=DateField())
            if when == "period":
                # PostgreSQL truncates a date as a timestamp with time zone, slow to read by the
                # thousand: a date again.
                bucket = Cast(bucket, DateField())
            queryset = queryset.annotate(bucket=bucket)
        sums = {name: totals[name] for name in measures}
        grouped.append(queryset.values(*keys).annotate(**sums).values_list(*keys, *sums))
    return grouped


def _totals(
    *, rollup: QuerySet, live: QuerySet[Sale], first: date, last: date, key: str | None, by: str | None
) -> dict[tuple[date | None, Any], "Totals"]:
    """Totals per (month or week start, `key`) over the days `first`..`last` (today at most),
    from `_grouped`."""
    width = bool(by) + bool(key)
    sums: dict[tuple[date | None, Any], list] = {}
    for queryset in _grouped(rollup=rollup, live=live, first=first, last=last, key=key, by=by):
        for row in queryset:
            group = (row[0] if by else None, row[width - 1] if key else None)
            units, revenue, cost, reward = row[width:]
            found = sums.get(group)
            if found is None:
                sums[group] = [units or 0, revenue or ZERO, cost or ZERO, reward or ZERO]
            else:
                found[0] += units or 0
                found[1] += revenue or ZERO
                found[2] += cost or ZERO
                found[3] += reward or ZERO
    return {group: Totals(units, _money(revenue), _money(cost), _money(reward))
            for group, (units, revenue, cost, reward) in sums.items()}


@dataclass(frozen=True)
class Totals:
    units: int = 0
    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    reward: Decimal = ZERO

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(self.units + other.units, self.revenue + other.revenue, self.cost + other.cost,
                      self.reward + other.reward)

    @classmethod
    def of(cls, row: dict) -> "Totals":
        return cls(row["units"] or 0, _money(row["revenue"]), _money(row["cost"]), _money(row["reward"]))


# What "sales by X" groups on: the path from a sale (or a rep/product roll-up row), and the
# model and field that name the group.
DIMENSIONS: dict[str, tuple[str, Any, str]] = {
    "region": ("rep__branch__region", Region, "name"),
    "branch": ("rep__branch", Branch, "code"),
    "product": ("product", Product, "code"),
    "division": ("product__division", Division, "code"),
    "rep": ("rep", User, ""),
}


def _labels(dimension: str, ids: Iterable[Any]) -> dict[Any, str]:
    _path, model, field = DIMENSIONS[dimension]
    found = model.objects.in_bulk([i for i in ids if i is not None])
    labels = {pk: (getattr(obj, field) if field else str(obj)) for pk, obj in found.items()}
    labels[None] = _("(none)")
    return labels


@dataclass(frozen=True)
class MonthRow:
    month: date
    key: str
    label: str
    units: int
    revenue: Decimal
    cost: Decimal
    margin: Decimal
    reward: Decimal


def _sales_totals(user: Any, *, first: date, last: date, key: str | None, by: str | None) -> dict:
    """`_totals` of the sales `user` may see (by the rep who sold). The rows per rep serve every
    group but the product and its division, at a fraction of the rows per rep and product."""
    rollup = RepProductTotals if key and key.startswith("product") else RepTotals
    return _totals(rollup=scope(rollup.objects.all(), user), live=scope(valid_sales(), user),
                   first=first, last=last, key=key, by=by)


def sales_by_month(*, user: Any, by: str | None = None, months: int = 12, today: date | None = None) -> list[MonthRow]:
    """Units, revenue, margin and reward spend per month (and per region, branch, product,
    division or rep), the current month included."""
    today = today or timezone.localdate()
    path = DIMENSIONS[by][0] if by else None
    found = _sales_totals(user, first=add_months(month_start(today), 1 - months), last=today, key=path, by="month")
    labels = _labels(by, {key for _month, key in found}) if by else {}
    rows = [
        MonthRow(month=month, key="" if key is None else str(key), label=labels[key] if by else _("All"),
                 units=t.units, revenue=t.revenue, cost=t.cost, margin=t.revenue - t.cost, reward=t.reward)
        for (month, key), t in found.items()
    ]
    return sorted(rows, key=lambda r: (r.month, r.label))


# ---------------------------------------------------------------------------------------------
# Each rep's day


@dataclass(frozen=True)
class RepDay:
    rep_id: int
    rep: str
    branch: str
    units: int
    revenue: Decimal
    rewards: Decimal
    visits: int
    new_customers: int
    deals_moved: int


def rep_day(*, user: Any, day: date | None = None) -> list[RepDay]:
    """Per rep in scope, for one day: sales and rewards, visits, new customers, deals moved
    (a deal that entered a stage or closed that day counts once)."""
    day = day or timezone.localdate()
    start, end = midnight(day), midnight(day + timedelta(days=1))
    reps = list(visible_users(user).filter(role=Role.REP, is_active=True).select_related("branch").order_by(
        "first_name", "last_name", "username"))
    rep_ids = [r.pk for r in reps]
    sales = {
        r["rep"]: r for r in valid_sales().filter(rep__in=rep_ids, sold_at__gte=start, sold_at__lt=end)
        .values("rep").annotate(**live_totals())
    }
    visits = _count_by(Activity.objects.filter(
        rep__in=rep_ids, kind=ActivityKind.VISIT, voided_at__isnull=True, occurred_at__gte=start, occurred_at__lt=end,
    ), "rep")
    new_customers = _count_by(Customer.objects.filter(owner__in=rep_ids, created_at__gte=start, created_at__lt=end),
                              "owner")
    moved: dict[int, set] = defaultdict(set)
    entered = StageEntry.objects.filter(opportunity__owner__in=rep_ids, entered_at__gte=start, entered_at__lt=end)
    closed = Opportunity.objects.filter(owner__in=rep_ids, closed_at__gte=start, closed_at__lt=end)
    for owner, deal in [*entered.values_list("opportunity__owner", "opportunity"), *closed.values_list("owner", "pk")]:
        moved[owner].add(deal)
    result = []
    for rep in reps:
        totals = Totals.of(sales[rep.pk]) if rep.pk in sales else Totals()
        result.append(RepDay(
            rep_id=rep.pk, rep=str(rep), branch=rep.branch.code if rep.branch else "", units=totals.units,
            revenue=totals.revenue, rewards=totals.reward, visits=visits.get(rep.pk, 0),
            new_customers=new_customers.get(rep.pk, 0), deals_moved=len(moved[rep.pk]),
        ))
    return result


def _count_by(queryset: QuerySet, field: str) -> dict[Any, int]:
    return dict(queryset.order_by().values(field).annotate(n=Count("pk")).values_list(field, "n"))


# ---------------------------------------------------------------------------------------------
# Growth and hot products


@dataclass(frozen=True)
class GrowthRow:
    period: date
    units: int
    revenue: Decimal
    units_change_pct: float | None
    revenue_change_pct: float | None
    partial: bool


def growth(*, user: Any, grain: str = "month", periods: int = 12, today: date | None = None) -> list[GrowthRow]:
    """Units and revenue per week or month, each compared with the one before. The current
    period is included and marked partial."""
    today = today or timezone.localdate()
    if grain == "week":
        current = week_start(today)
        starts = [current - timedelta(weeks=n) for n in range(periods, -1, -1)]
    else:
        current = month_start(today)
        starts = months_between(add_months(current, -periods), current)
    found = {bucket: t for (bucket, _key), t in
             _sales_totals(user, first=starts[0], last=today, key=None, by=grain).items()}
    result = []
    for before, period in pairwise(starts):
        now, then = found.get(period, Totals()), found.get(before, Totals())
        result.append(GrowthRow(
            period=period, units=now.units, revenue=now.revenue, units_change_pct=_pct(now.units, then.units),
            revenue_change_pct=_pct(now.revenue, then.revenue), partial=period == current,
        ))
    return result


@dataclass(frozen=True)
class HotProduct:
    product: str
    name: str
    recent_units: int
    previous_units: int
    growth_pct: float | None


def hot_products(*, user: Any, days: int = 28, limit: int = 10, today: date | None = None) -> list[HotProduct]:
    """Products ranked by growth: units in the last `days` days (today included) against the
    `days` before. A product with no sales before ranks first, by its recent units."""
    today = today or timezone.localdate()
    split = today - timedelta(days=days - 1)
    recent = _sales_totals(user, first=split, last=today, key="product", by=None)
    before = _sales_totals(user, first=split - timedelta(days=days), last=split - timedelta(days=1), key="product",
                           by=None)
    units = {key: (t.units, before.get((None, key), Totals()).units) for (_b, key), t in recent.items() if t.units}
    named = Product.objects.in_bulk(list(units))
    products = [
        HotProduct(product=named[pk].code, name=named[pk].name, recent_units=now, previous_units=then,
                   growth_pct=_pct(now, then))
        for pk, (now, then) in units.items()
    ]
    products.sort(key=lambda p: (p.growth_pct is None, p.growth_pct or 0, p.recent_units), reverse=True)
    return products[:limit]


# ---------------------------------------------------------------------------------------------
# Order to receipt


@dataclass(frozen=True)
class FulfilmentRow:
    key: str
    label: str
    shipments: int
    order_to_ship_days: float | None
    ship_to_rep_told_days: float | None
    ship_to_receipt_days: float | None
    order_to_receipt_days: float | None


def received_shipments() -> QuerySet[Shipment]:
    return Shipment.objects.filter(received_at__isnull=False)


def _duration(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def _until(moment: datetime, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(Value(moment) - F(earlier), output_field=DurationField())


def fulfilment_sums() -> dict:
    """Of a group of received shipments: how many, and their durations summed (from the shipment
    to the customer told, over those whose customer was told), used live and to build the roll-up."""
    return {
        "shipments": Count("pk"),
        "order_to_ship": Sum(_duration("shipped_at", "order__ordered_at")),
        "told": Count("customer_told_at"),
        "ship_to_told": Sum(_duration("customer_told_at", "shipped_at")),
        "ship_to_receipt": Sum(_duration("received_at", "shipped_at")),
        "order_to_receipt": Sum(_duration("received_at", "order__ordered_at")),
    }


FULFILMENT = tuple(fulfilment_sums())


def fulfilment_times(
    *, user: Any, by: str = "branch", months: int = 12, today: date | None = None
) -> list[FulfilmentRow]:
    """Average days from order to shipment, from shipment to the rep telling the customer, from
    shipment to receipt and from order to receipt; per branch or per month shipped. Only
    shipments that were received count. Complete months that are rolled up come from their
    roll-up rows, the rest (this month at least) live."""
    today = today or timezone.localdate()
    first = add_months(month_start(today), 1 - months)
    built = set(RollupPeriod.objects.filter(grain=Grain.MONTH, start__gte=first, start__lt=month_start(today))
                .values_list("start", flat=True))
    rolled = [m for m in months_between(first, today) if m in built]
    in_rolled = {d for m in rolled for d in days_between(m, add_months(m, 1) - timedelta(days=1))}
    pending = [d for d in days_between(first, today) if d not in in_rolled]
    sources = []
    if rolled:
        group = "period" if by == "month" else "rep__branch__code"
        sources.append(scope(FulfilmentTotals.objects.filter(period__in=rolled), user).order_by().values(group)
                       .annotate(**{name: Sum(name) for name in FULFILMENT}).values_list(group, *FULFILMENT))
    if pending:
        shipments = scope(received_shipments().filter(_in_days(pending, "shipped_at", moments=True)), user)
        group = "order__rep__branch__code"
        if by == "month":
            shipments, group = shipments.annotate(month=TruncMonth("shipped_at", output_field=DateField())), "month"
        sources.append(shipments.order_by().values(group).annotate(**fulfilment_sums())
                       .values_list(group, *FULFILMENT))
    sums: dict[Any, list] = {}
    for source in sources:
        for key, *values in source:
            found = sums.setdefault(key, [0, timedelta(), 0, timedelta(), timedelta(), timedelta()])
            for n, value in enumerate(values):
                if value is not None:
                    found[n] += value
    result = [
        FulfilmentRow(
            key=str(key or ""), label=str(key or _("(none)")), shipments=n, order_to_ship_days=_days(_mean(to_ship, n)),
            ship_to_rep_told_days=_days(_mean(to_told, told)), ship_to_receipt_days=_days(_mean(to_receipt, n)),
            order_to_receipt_days=_days(_mean(total, n)),
        )
        for key, (n, to_ship, told, to_told, to_receipt, total) in sums.items()
    ]
    return sorted(result, key=lambda r: r.key)


def _mean(total: timedelta, n: int) -> timedelta | None:
    return total / n if n else None


def _avg_duration(later: str, earlier: str) -> Avg:
    """The mean of `later - earlier` as a timedelta (NULLs ignored), on SQLite and PostgreSQL."""
    return Avg(_duration(later, earlier))


# ---------------------------------------------------------------------------------------------
# Pipeline: weighted forecast, funnel, accuracy, conversion, time in stage, cycle, win rate


def open_deals(user: Any) -> QuerySet[Opportunity]:
    return scope(Opportunity.objects.filter(status=OpportunityStatus.OPEN), user)


def _weighted() -> Sum:
    # amount x probability summed, divided by 100 in Python: SQLite would divide integers.
    return Sum(F("amount") * F("stage__probability"))


def _percent_of(value: Decimal | float | None) -> Decimal:
    return (Decimal(str(value or 0)) / 100).quantize(CENT)


@dataclass(frozen=True)
class ForecastRow:
    period: date | None
    deals: int
    amount: Decimal
    weighted: Decimal


def pipeline_forecast(*, user: Any) -> list[ForecastRow]:
    """Open deals per month of expected close: count, amount, and amount x stage probability."""
    rows = (
        open_deals(user).order_by().annotate(period=TruncMonth("expected_close", output_field=DateField()))
        .values("period").annotate(deals=Count("pk"), pipeline=Sum("amount"), weighted=_weighted())
    )
    result = [ForecastRow(r["period"], r["deals"], _money(r["pipeline"]), _percent_of(r["weighted"])) for r in rows]
    return sorted(result, key=lambda r: (r.period is None, r.period or date.min))


@dataclass(frozen=True)
class FunnelRow:
    division: str
    stage: str
    order: int
    probability: int
    deals: int
    amount: Decimal
    weighted: Decimal


def pipeline_funnel(*, user: Any) -> list[FunnelRow]:
    """Open deals per stage, in the order of each division's methodology."""
    rows = (
        open_deals(user).order_by()
        .values("stage__division__code", "stage__name", "stage__order", "stage__probability")
        .annotate(deals=Count("pk"), pipeline=Sum("amount"), weighted=_weighted())
    )
    result = [
        FunnelRow(r["stage__division__code"], r["stage__name"], r["stage__order"], r["stage__probability"],
                  r["deals"], _money(r["pipeline"]), _percent_of(r["weighted"]))
        for r in rows
    ]
    return sorted(result, key=lambda r: (r.division, r.order))


def forecast_by_owner(deals: QuerySet[Opportunity], period: date) -> list[dict]:
    """Per owner: open deals expected to close in the month `period`, and their weighted sum."""
    rows = (
        deals.filter(expected_close__gte=period, expected_close__lt=add_months(period, 1)).order_by()
        .values("owner").annotate(deals=Count("pk"), pipeline=Sum("amount"), weighted=_weighted())
    )
    return [{**r, "weighted": _percent_of(r["weighted"]), "pipeline": _money(r["pipeline"])} for r in rows]


@dataclass(frozen=True)
class AccuracyRow:
    level: str  # "rep", "team" or "all"
    name: str
    period: date
    forecast: Decimal
    actual: Decimal
    accuracy_pct: float | None


def accuracy(forecast: Decimal, actual: Decimal) -> float | None:
    """1 - |actual - forecast| / forecast, as a percentage, never below 0; None without a forecast."""
    if not forecast:
        return None
    return round(max(0.0, 1 - float(abs(actual - forecast) / forecast)) * 100, 1)


def forecast_accuracy(
    *, user: Any, months: int = 6, today: date | None = None, overall_only: bool = False
) -> list[AccuracyRow]:
    """Each month's snapshotted forecast against the amount of deals actually won that month, per
    rep, per team (the rep's manager) and for everyone in scope; `overall_only`: for everyone in
    scope only (what the page charts), summed in the database."""
    today = today or timezone.localdate()
    first = add_months(month_start(today), 1 - months)
    snapshots = scope(ForecastSnapshot.objects.filter(period__gte=first), user).order_by()
    won = (
        scope(Opportunity.objects.filter(status=OpportunityStatus.WON, closed_at__gte=midnight(first)), user)
        .order_by().annotate(period=TruncMonth("closed_at", output_field=DateField()))
    )
    if overall_only:
        forecast = dict(snapshots.values("period").annotate(f=Sum("weighted")).values_list("period", "f"))
        actual = {period: _money(a) for period, a in
                  won.values("period").annotate(a=Sum("amount")).values_list("period", "a")}
        overall = [(period, forecast.get(period, ZERO), actual.get(period, ZERO))
                   for period in sorted({*forecast, *actual})]
        return [AccuracyRow("all", _("All"), period, f, a, accuracy(f, a)) for period, f, a in overall]
    forecast = {(owner, period): weighted for owner, period, weighted in
                snapshots.values_list("owner", "period", "weighted")}
    actual = {(r["owner"], r["period"]): _money(r["actual"]) for r in
              won.values("owner", "period").annotate(actual=Sum("amount"))}
    owners = User.objects.select_related("manager").in_bulk({owner for owner, _period in {*forecast, *actual}})
    no_manager, everyone = _("(no manager)"), ("all", _("All"))
    names = {pk: (("rep", str(o)), ("team", str(o.manager) if o.manager else no_manager)) for pk, o in owners.items()}
    groups: dict[tuple[str, str, date], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for owner_id, period in {*forecast, *actual}:
        for group in (*names[owner_id], everyone):
            sums = groups[(*group, period)]
            sums[0] += forecast.get((owner_id, period), ZERO)
            sums[1] += actual.get((owner_id, period), ZERO)
    rank = {"all": 0, "team": 1, "rep": 2}
    rows = [AccuracyRow(level, name, period, f, a, accuracy(f, a)) for (level, name, period), (f, a) in groups.items()]
    return sorted(rows, key=lambda r: (r.period, rank[r.level], r.name))


@dataclass(frozen=True)
class ConversionRow:
    division: str
    stage: str
    order: int
    entered: int
    advanced: int
    conversion_pct: float | None


def _entries(user: Any, months: int, today: date | None) -> QuerySet[StageEntry]:
    """Stage entries of the deals in scope, from the last `months` months."""
    first = add_months(month_start(today or timezone.localdate()), 1 - months)
    entries = StageEntry.objects.filter(entered_at__gte=midnight(first)).order_by()
    return _within(entries, "opportunity", scope(Opportunity.objects.all(), user))


def _stages() -> dict[int, Stage]:
    return Stage.objects.select_related("division").in_bulk()


def stage_conversion(*, user: Any, months: int = 12, today: date | None = None) -> list[ConversionRow]:
    """Of the deals that entered a stage in the last `months`, how many went on: their stage now
    is a later one, or they were won. The deals are counted per stage entered, stage now and
    status: a deal is in one such group, so the groups add up, and the stages' order is compared
    here rather than by joining the stages to every entry."""
    rows = (_entries(user, months, today).values("stage", "opportunity__stage", "opportunity__status")
            .annotate(deals=Count("opportunity", distinct=True)))
    stages = _stages()
    entered: dict[int, int] = defaultdict(int)
    advanced: dict[int, int] = defaultdict(int)
    for r in rows:
        stage, now = stages[r["stage"]], stages[r["opportunity__stage"]]
        entered[stage.pk] += r["deals"]
        if now.order > stage.order or r["opportunity__status"] == OpportunityStatus.WON:
            advanced[stage.pk] += r["deals"]
    result = [
        ConversionRow(stages[pk].division.code, stages[pk].name, stages[pk].order, n, advanced[pk],
                      round(advanced[pk] / n * 100, 1))
        for pk, n in entered.items()
    ]
    return sorted(result, key=lambda r: (r.division, r.order))


@dataclass(frozen=True)
class StageTimeRow:
    division: str
    stage: str
    order: int
    usual_days: int
    stays: int
    avg_days: float | None


def time_in_stage(*, user: Any, months: int = 12, today: date | None = None) -> list[StageTimeRow]:
    """Average days a deal spent in each stage, over the stays begun in the last `months` that ended."""
    rows = (
        _entries(user, months, today).filter(left_at__isnull=False)
        .values("stage").annotate(stays=Count("pk"), avg=_avg_duration("left_at", "entered_at"))
    )
    stages, result = _stages(), []
    for r in rows:
        stage = stages[r["stage"]]
        result.append(StageTimeRow(stage.division.code, stage.name, stage.order, stage.usual_days, r["stays"],
                                   _days(r["avg"])))
    return sorted(result, key=lambda r: (r.division, r.order))


@dataclass(frozen=True)
class WinRow:
    rep_id: int | None
    rep: str
    won: int
    lost: int
    abandoned: int
    win_rate_pct: float | None
    avg_cycle_days: float | None


def win_rates(*, user: Any, months: int = 12, today: date | None = None) -> list[WinRow]:
    """Per rep and in total, deals closed in the last `months`: won, lost, abandoned, the win
    rate, and the average cycle of won deals (first stage entered to close)."""
    today = today or timezone.localdate()
    first = add_months(month_start(today), 1 - months)
    started = _latest(StageEntry.objects.all(), "opportunity", "pk", "entered_at", Min)
    closed = scope(Opportunity.objects.exclude(status=OpportunityStatus.OPEN).filter(closed_at__gte=midnight(first)),
                   user).annotate(started=Coalesce(started, F("created_at")))
    rows = list(closed.order_by().values("owner").annotate(**_outcomes()))
    names = User.objects.in_bulk([r["owner"] for r in rows])
    result = [_win_row(r["owner"], str(names[r["owner"]]), r) for r in rows]
    result.sort(key=lambda r: r.rep)
    if not rows:
        return result
    # The total from the reps' rows: a second pass over the deals would cost as much again.
    total = {key: sum(r[key] for r in rows) for key in ("won", "lost", "abandoned")}
    total["cycles"] = sum((r["cycles"] for r in rows if r["cycles"] is not None), timedelta())
    return [*result, _win_row(None, _("All"), total)]


def _outcomes() -> dict:
    won = Q(status=OpportunityStatus.WON)
    return {
        "won": Count("pk", filter=won),
        "lost": Count("pk", filter=Q(status=OpportunityStatus.LOST)),
        "abandoned": Count("pk", filter=Q(status=OpportunityStatus.ABANDONED)),
        "cycles": Sum(_duration("closed_at", "started"), filter=won),
    }


def _win_row(rep_id: int | None, name: str, row: dict) -> WinRow:
    closed = row["won"] + row["lost"] + row["abandoned"]
    cycle = row["cycles"] / row["won"] if row["won"] and row["cycles"] is not None else None
    return WinRow(rep_id, name, row["won"], row["lost"], row["abandoned"],
                  round(row["won"] / closed * 100, 1) if closed else None, _days(cycle))


# ---------------------------------------------------------------------------------------------
# Deals that need a manager: stalled, and big ones with a stakeholder gap

IDLE_DAYS = 14
OVER_STAGE_FACTOR = 2


@dataclass(frozen=True)
class StalledDeal:
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
    suggestion: str  # "advance" or "abandon"
    suggestion_text: str


def stalled_deals(*, user: Any, idle_days: int = IDLE_DAYS, factor: float = OVER_STAGE_FACTOR,
                  now: datetime | None = None, limit: int | None = None) -> list[StalledDeal]:
    """Open deals in scope with no activity for `idle_days`, or more than `factor` times the
    usual time in their stage, longest idle first (the first `limit` only, cut in the database);
    each with a suggestion to advance or abandon it."""
    return stalled_among(open_deals(user), idle_days=idle_days, factor=factor, now=now or timezone.now(),
                         limit=limit)


def _latest(queryset: QuerySet, outer: str, ref: str, field: str, how: type = Max) -> Subquery:
    """The latest (or, with Min, earliest) `field` of the rows whose `outer` is the outer row's
    `ref`: an aggregate, not ORDER BY … LIMIT 1, which PostgreSQL may answer by walking a whole
    date index when nothing matches."""
    rows = queryset.filter(**{outer: OuterRef(ref)}).order_by().values(outer)
    return Subquery(rows.annotate(found=how(field)).values("found"))


def _last_touch() -> Any:
    """The latest activity on the deal, or on its customer without naming a deal, or the moment
    it entered its stage, whichever is later. Two subqueries, each an index lookup: a deal has
    few activities (aggregated), a customer many, read newest first along the index on
    (customer, occurred_at)."""
    live = Activity.objects.filter(voided_at__isnull=True)
    on_deal = _latest(live, "opportunity", "pk", "occurred_at")
    on_customer = Subquery(live.filter(customer=OuterRef("customer"), opportunity__isnull=True)
                           .order_by("-occurred_at").values("occurred_at")[:1])
    entered = F("stage_entered_at")
    return Greatest(Coalesce(on_deal, entered), Coalesce(on_customer, entered), entered)


def stalled_among(deals: QuerySet[Opportunity], *, idle_days: int, factor: float, now: datetime,
                  limit: int | None = None) -> list[StalledDeal]:
    stages = {stage.pk: stage for stage in Stage.objects.order_by("division", "order")}
    over_stage = Q(pk__in=[])
    for stage in stages.values():
        over_stage |= Q(stage=stage, stage_entered_at__lt=now - timedelta(days=stage.usual_days * factor))
    idle_since = now - timedelta(days=idle_days)
    # The cheap tests first: the database reads a deal's activities only when its stage alone
    # does not decide (an idle deal entered its stage before `idle_since`, too).
    idle = Q(stage_entered_at__lt=idle_since) & Q(last_touch__lt=idle_since)
    found = list(
        deals.annotate(last_touch=_last_touch()).filter(over_stage | idle)
        # Durations, not moments: read by the thousand, timestamps with time zone cost far more.
        .annotate(idle_for=_until(now, "last_touch"), in_stage_for=_until(now, "stage_entered_at"))
        .order_by("-idle_for", "pk").values("pk", "name", "customer__name", "owner", "stage", "amount",
                                            "expected_close", "idle_for", "in_stage_for")[:limit]
    )
    following = {(s.division_id, s.order): s for s in stages.values()}
    owners = _people({d["owner"] for d in found})
    today = timezone.localdate(now)
    texts: dict[tuple[bool, Stage | None], str] = {}  # a few texts, translated once, not once a deal
    result = []
    for deal in found:
        stage = stages[deal["stage"]]
        nxt = following.get((stage.division_id, stage.order + 1))
        idle = deal["idle_for"] > timedelta(days=idle_days)
        past_close = deal["expected_close"] is not None and deal["expected_close"] < today
        in_stage = deal["in_stage_for"].days
        abandon = idle and (in_stage > stage.usual_days * factor or past_close)
        text = texts.get((abandon, nxt))
        if text is None:
            text = texts[(abandon, nxt)] = _suggestion(abandon, nxt)
        result.append(StalledDeal(
            id=str(deal["pk"]), name=deal["name"], customer=deal["customer__name"], owner_id=deal["owner"],
            owner=owners[deal["owner"]], stage=stage.name, next_stage=nxt.name if nxt else "", amount=deal["amount"],
            idle_days=deal["idle_for"].days, days_in_stage=in_stage, usual_days=stage.usual_days,
            suggestion="abandon" if abandon else "advance", suggestion_text=text,
        ))
    return result


def _people(ids: Iterable[int]) -> dict[int, str]:
    """Display names of these users, in one query."""
    return {pk: str(user) for pk, user in User.objects.in_bulk(list(ids)).items()}


def _suggestion(abandon: bool, nxt: Stage | None) -> str:
    if abandon:
        return _("Abandon it, or re-engage the customer this week")
    if nxt is None:
        return _("Close it: ask for the signature")
    return _("Advance it to %(stage)s once its entry criteria are met") % {"stage": nxt.name}


GAP_DAYS = 60
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StakeholderGap:
    id: str
    name: str
    customer: str
    owner_id: int
    owner: str
    amount: Decimal
    decision_maker: str
    last_contacted: datetime | None


def stakeholder_gaps_among(deals: QuerySet[Opportunity], *, min_amount: Decimal, now: datetime,
                      days: int = GAP_DAYS) -> list[StakeholderGap]:
    """Open deals of at least `min_amount` whose customer's decision maker was not contacted in
    `days` days (by the contact's own date or an activity with them), or who has none."""
    makers = Contact.objects.filter(buying_role=BuyingRole.DECISION_MAKER)
    noted = _latest(makers, "customer", "customer", "last_contacted_at")
    met = _latest(Activity.objects.filter(contact__buying_role=BuyingRole.DECISION_MAKER, voided_at__isnull=True),
                  "contact__customer", "customer", "occurred_at")
    never = Value(NEVER, output_field=DateTimeField())
    found = list(
        deals.filter(amount__gte=min_amount)
        .annotate(contacted=Greatest(Coalesce(noted, never), Coalesce(met, never)),
                  maker=_latest(makers, "customer", "customer", "name", Min))
        .filter(contacted__lt=now - timedelta(days=days)).order_by("-amount")
        .values("pk", "name", "customer__name", "owner", "amount", "maker", "contacted")
    )
    owners = _people({d["owner"] for d in found})
    return [
        StakeholderGap(str(d["pk"]), d["name"], d["customer__name"], d["owner"], owners[d["owner"]], d["amount"],
                       d["maker"] or "", d["contacted"] if d["contacted"] > NEVER else None)
        for d in found
    ]


def stakeholder_gaps(*, user: Any, min_amount: Decimal, now: datetime | None = None) -> list[StakeholderGap]:
    return stakeholder_gaps_among(open_deals(user), min_amount=min_amount, now=now or timezone.now())


# ---------------------------------------------------------------------------------------------
# Customer value and key accounts


@dataclass(frozen=True)
class CustomerValue:
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


def _customer_sources(customers: QuerySet[Customer]) -> dict[str, QuerySet]:
    return {"rollup": _within(CustomerTotals.objects.all(), "customer", customers),
            "live": _within(valid_sales().filter(customer__isnull=False), "customer", customers)}


def _overdue_orders(customers: QuerySet[Customer], today: date) -> QuerySet[Order]:
    unpaid = Order.objects.filter(paid_date__isnull=True, due_date__lt=today).exclude(status=OrderStatus.CANCELLED)
    return _within(unpaid.order_by(), "customer", customers)


def customer_value(
    *, user: Any, months: int = 12, today: date | None = None, ends: int | None = None
) -> list[CustomerValue]:
    """Per customer in scope over the last `months`: revenue, cost and margin of valid sales
    (margin from the products' cost), and unpaid orders past their due date. Most profitable
    first; with `ends`, only the `ends` most and the `ends` least profitable (what a page shows),
    chosen in the database."""
    today = today or timezone.localdate()
    rows = _customer_sums(scope(Customer.objects.all(), user), first=add_months(month_start(today), 1 - months),
                          last=today, today=today, ends=ends)
    owners = _people({row[2] for row in rows})
    result = []
    for pk, name, owner, units, revenue, cost, overdue, late in rows:
        margin = revenue - cost
        result.append(CustomerValue(
            id=str(pk), name=name, owner=owners[owner], units=units, revenue=revenue, cost=cost, margin=margin,
            margin_pct=round(float(margin / revenue * 100), 1) if revenue else None, overdue_amount=overdue,
            overdue_orders=late,
        ))
    return sorted(result, key=lambda c: (-c.margin, c.name))


def _customer_sums(customers: QuerySet[Customer], *, first: date, last: date, today: date,
                   ends: int | None) -> list[tuple]:
    """Per customer with sales from `first` to `last` or orders overdue at `today`: pk, name,
    owner id, units, revenue, cost, overdue amount and orders; with `ends`, only the `ends` most
    and the `ends` least profitable.

    One statement, written out because the ORM cannot sum a UNION: the roll-up rows and the live
    sales (`_grouped`) and the overdue orders in one UNION ALL, summed per customer (and numbered
    by margin), so that a page reads 2 x `ends` rows and a download one row per customer.
    """
    money = DecimalField(max_digits=18, decimal_places=2)
    no_money, none = Value(ZERO, money), Value(0)
    columns = ("customer", "units", "revenue", "cost", "overdue", "late")
    parts = [
        part.annotate(overdue=no_money, late=none).values_list(*columns)
        for part in _grouped(**_customer_sources(customers), first=first, last=last, key="customer", by=None,
                             measures=("units", "revenue", "cost"))
    ]
    parts.append(_overdue_orders(customers, today).values("customer").annotate(
        units=none, revenue=no_money, cost=no_money, overdue=Sum("amount"), late=Count("pk"),
    ).values_list(*columns))
    inner, params = parts[0].union(*parts[1:], all=True).query.sql_with_params()
    quote = connection.ops.quote_name
    table, pk, name, owner = (quote(Customer._meta.db_table), quote(Customer._meta.pk.column),
                              quote(Customer._meta.get_field("name").column),
                              quote(Customer._meta.get_field("owner").column))
    ranking, cut, cut_params = "", "", []
    if ends is not None:
        ranking = (f", ROW_NUMBER() OVER (ORDER BY s.revenue - s.cost DESC, c.{name}, s.customer) AS place"
                   ", COUNT(*) OVER () AS total")
        cut, cut_params = " WHERE place <= %s OR place > total - %s", [ends, ends]
    sql = (
        f"WITH t ({', '.join(columns)}) AS ({inner}) "  # noqa: S608  (names from the models, values as parameters)
        "SELECT customer, name, owner, units, revenue, cost, overdue, late FROM ("
        f"SELECT s.*, c.{name} AS name, c.{owner} AS owner{ranking} FROM ("
        "SELECT customer, SUM(units) AS units, SUM(revenue) AS revenue, SUM(cost) AS cost, SUM(overdue) AS overdue, "
        f"SUM(late) AS late FROM t GROUP BY customer) s JOIN {table} c ON c.{pk} = s.customer) per_customer{cut}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *cut_params])
        found = cursor.fetchall()
    to_pk = Customer._meta.pk.to_python
    return [(to_pk(row[0]), row[1], row[2], int(row[3]), _sum(row[4]), _sum(row[5]), _sum(row[6]), int(row[7]))
            for row in found]


def _sum(value: Any) -> Decimal:
    """A sum read without the ORM: a Decimal from PostgreSQL, a float or an int from SQLite."""
    return _money(value if isinstance(value, Decimal) else Decimal(str(value or 0)))


FALLING_MONTHS = 3
SHARP_DROP = Decimal("0.5")
TRAILING_MONTHS = 6


@dataclass(frozen=True)
class FallingAccount:
    customer_id: str
    customer: str
    owner_id: int
    months: list[date]
    units: list[int]
    reason: str  # "falling" or "sharp_drop"


def falling_accounts_among(customers: QuerySet[Customer], *, today: date, months: int = FALLING_MONTHS,
                      sharp_drop: Decimal = SHARP_DROP, trailing: int = TRAILING_MONTHS) -> list[FallingAccount]:
    """Key accounts whose units fell `months` complete months in a row, or whose last complete
    month is below `sharp_drop` times the average of the `trailing` months before it."""
    last = add_months(month_start(today), -1)
    first = add_months(last, -max(months, trailing))
    keys = customers.filter(is_key_account=True)
    units: dict[Any, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for part in _grouped(**_customer_sources(keys), first=first, last=month_start(today) - timedelta(days=1),
                         key="customer", by="month", measures=("units",)):
        for month, customer, n in part:
            units[customer][month] += n
    calendar = months_between(first, last)
    result = []
    for pk, name, owner in keys.order_by("name").values_list("pk", "name", "owner"):
        if pk not in units:
            continue
        series = [units[pk][m] for m in calendar]
        reason = _fall_reason(series, months, sharp_drop, trailing)
        if reason:
            result.append(FallingAccount(str(pk), name, owner, calendar, series, reason))
    return result


def _fall_reason(series: list[int], months: int, sharp_drop: Decimal, trailing: int) -> str:
    recent = series[-(months + 1):]
    if all(later < earlier for earlier, later in pairwise(recent)):
        return "falling"
    before = series[-(trailing + 1):-1]
    average = Decimal(sum(before)) / len(before) if before else ZERO
    if average and series[-1] < average * sharp_drop:
        return "sharp_drop"
    return ""


def falling_key_accounts(*, user: Any, today: date | None = None, months: int = FALLING_MONTHS) -> list[FallingAccount]:
    customers = scope(Customer.objects.all(), user)
    return falling_accounts_among(customers, today=today or timezone.localdate(), months=months)


# ---------------------------------------------------------------------------------------------
# What the dashboard lists besides the figures


@dataclass(frozen=True)
class AlertRow:
    id: str
    kind: str
    created_at: datetime
    owner: str
    message: str


def recent_alerts(*, user: Any, days: int = 31, limit: int = 50) -> list[AlertRow]:
    """Alerts about people in scope from the last `days` days, newest first (digests excluded)."""
    since = timezone.now() - timedelta(days=days)
    alerts = scope(Alert.objects.exclude(kind=AlertKind.DIGEST).filter(created_at__gte=since), user)
    return [
        AlertRow(str(a.pk), a.kind, a.created_at, str(a.owner), a.message)
        for a in alerts.select_related("owner").order_by("-created_at")[:limit]
    ]


@dataclass(frozen=True)
class ConflictRow:
    id: str
    created_at: datetime
    existing: str
    existing_owner: str
    reported_by: str
    matched_on: str
    source: str


def open_conflicts(*, user: Any, limit: int = 50) -> list[ConflictRow]:
    """Duplicate-customer conflicts waiting for a manager's decision."""
    conflicts = scope(DuplicateConflict.objects.filter(status=ConflictStatus.OPEN), user)
    return [
        ConflictRow(str(c.pk), c.created_at, c.existing.name, str(c.existing.owner), str(c.reported_by),
                    c.matched_on, c.source)
        for c in conflicts.select_related("existing__owner", "reported_by").order_by("-created_at")[:limit]
    ]


def first_sale_day() -> date | None:
    first = Sale.objects.aggregate(first=Min("sold_at"))["first"]
    return timezone.localdate(first) if first else None


def days_changed_since(since: datetime, before: date) -> set[date]:
    """Days (before `before`) holding a sale or reward changed after `since`, or the shipment of
    an order, the shipment or its order changed after `since` (a receipt comes days later)."""
    limit = midnight(before)
    changes = [
        (Sale.objects.filter(updated_at__gt=since, sold_at__lt=limit), "sold_at"),
        (Sale.objects.filter(reward__updated_at__gt=since, sold_at__lt=limit), "sold_at"),
        (Shipment.objects.filter(updated_at__gt=since, shipped_at__lt=limit), "shipped_at"),
        (Shipment.objects.filter(order__updated_at__gt=since, shipped_at__lt=limit), "shipped_at"),
    ]
    found: set[date] = set()
    for changed, when in changes:
        found |= set(changed.order_by().annotate(day=TruncDate(when)).values_list("day", flat=True).distinct())
    return found
