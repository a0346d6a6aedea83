"""Writes of the read side: roll-ups, forecast snapshots, alerts, digests, and the live
"sale recorded" event for the managers' dashboards."""

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.core.groups import send_to_groups
from backend.crm.models import Customer, Opportunity, OpportunityStatus
from backend.notifications.services import in_language_of, notify
from backend.org.models import Branch, Region, Role, User
from backend.org.scoping import manager_chains, scope
from backend.reports import selectors
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
from backend.reports.selectors import add_months, midnight, month_start, valid_sales
from backend.sales.models import Sale, Shipment

# ---------------------------------------------------------------------------------------------
# Roll-ups

BUILD_MARGIN = timedelta(minutes=5)


@transaction.atomic
def rollup_build(*, grain: str, start: date) -> int:
    """(Re)build the roll-ups of one complete period from its valid sales (and, for a month, its
    received shipments); returns the rows."""
    # Taken first, less a margin for transactions still open: a sale changed around now is
    # rebuilt once more next time rather than missed.
    built_at = timezone.now() - BUILD_MARGIN
    sales = valid_sales().filter(sold_at__gte=midnight(start), sold_at__lt=midnight(selectors.period_end(grain, start)))
    for model in (RepProductTotals, RepTotals, CustomerTotals):
        model.objects.filter(grain=grain, period=start).delete()
    by_product = [
        RepProductTotals(grain=grain, period=start, rep_id=r["rep"], product_id=r["product"], **_totals(r))
        for r in sales.order_by().values("rep", "product").annotate(**selectors.live_totals())
    ]
    by_rep = _per_rep(by_product)
    by_customer = [
        CustomerTotals(grain=grain, period=start, customer_id=r["customer"], **_totals(r))
        for r in sales.filter(customer__isnull=False).order_by().values("customer").annotate(**selectors.live_totals())
    ]
    RepProductTotals.objects.bulk_create(by_product, batch_size=2000)
    RepTotals.objects.bulk_create(by_rep, batch_size=2000)
    CustomerTotals.objects.bulk_create(by_customer, batch_size=2000)
    built = len(by_product) + len(by_rep) + len(by_customer)
    if grain == Grain.MONTH:
        built += _build_fulfilment(start)
    RollupPeriod.objects.update_or_create(grain=grain, start=start, defaults={"built_at": built_at})
    return built


def _build_fulfilment(month: date) -> int:
    FulfilmentTotals.objects.filter(period=month).delete()
    shipped = selectors.received_shipments().filter(shipped_at__gte=midnight(month),
                                                     shipped_at__lt=midnight(add_months(month, 1)))
    rows = [
        # With no customer told, that sum is NULL: stored as zero, `told` says there were none.
        FulfilmentTotals(period=month, rep_id=r["order__rep"],
                         **{name: timedelta() if r[name] is None else r[name] for name in selectors.FULFILMENT})
        for r in shipped.order_by().values("order__rep").annotate(**selectors.fulfilment_sums())
    ]
    FulfilmentTotals.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _per_rep(rows: list[RepProductTotals]) -> list[RepTotals]:
    """The rep rows summed from the rep-and-product rows just built: the same sales, no second scan."""
    found: dict[int, RepTotals] = {}
    for row in rows:
        rep = found.get(row.rep_id)
        if rep is None:
            found[row.rep_id] = RepTotals(grain=row.grain, period=row.period, rep_id=row.rep_id, units=row.units,
                                          revenue=row.revenue, cost=row.cost, reward=row.reward)
        else:
            rep.units += row.units
            rep.revenue += row.revenue
            rep.cost += row.cost
            rep.reward += row.reward
    return list(found.values())


def _totals(row: dict) -> dict:
    totals = selectors.Totals.of(row)
    return {"units": totals.units, "revenue": totals.revenue, "cost": totals.cost, "reward": totals.reward}


def rollup_refresh(
    *, today: date | None = None, progress: Callable[[str, date], None] | None = None
) -> list[tuple[str, date]]:
    """Build every complete day, week, month and quarter not rolled up yet, and rebuild those
    whose sales or rewards (for a month also shipments or their orders) changed since they were
    built. Today is never rolled up (it is read live)."""
    today = today or timezone.localdate()
    first = selectors.first_sale_day()
    if first is None or first >= today:
        return []
    built = {(grain, start): at for grain, start, at in RollupPeriod.objects.values_list("grain", "start", "built_at")}
    todo = {(grain, start) for grain in Grain.values
            for start in selectors.periods(grain, first, today - timedelta(days=1))}
    todo -= set(built)
    if built:
        # Every change before the last build was seen by an earlier refresh.
        # A week, month or quarter holding several changed days is checked once.
        days = selectors.days_changed_since(max(built.values()), today)
        candidates = {(grain, selectors.period_start(grain, day)) for day in days for grain in Grain.values}
        todo |= {period for period in candidates - todo if period in built and _changed_after(*period, built[period])}
    order = sorted(todo, key=lambda p: (Grain.values.index(p[0]), p[1]))
    for grain, start in order:
        rollup_build(grain=grain, start=start)
        if progress:
            progress(grain, start)
    return order


def _changed_after(grain: str, start: date, built_at: datetime) -> bool:
    begins, ends = midnight(start), midnight(selectors.period_end(grain, start))
    changed = Q(updated_at__gt=built_at) | Q(reward__updated_at__gt=built_at)
    if Sale.objects.filter(changed, sold_at__gte=begins, sold_at__lt=ends).exists():
        return True
    if grain != Grain.MONTH:
        return False
    shipped = Shipment.objects.filter(shipped_at__gte=begins, shipped_at__lt=ends)
    return shipped.filter(Q(updated_at__gt=built_at) | Q(order__updated_at__gt=built_at)).exists()


# ---------------------------------------------------------------------------------------------
# Forecast snapshots


@transaction.atomic
def forecast_snapshot_take(*, period: date | None = None) -> int:
    """Snapshot every rep's weighted forecast for the month `period` (default: this month),
    once: a period already snapshotted is left as it was taken."""
    period = month_start(period or timezone.localdate())
    if ForecastSnapshot.objects.filter(period=period).exists():
        return 0
    deals = Opportunity.objects.filter(status=OpportunityStatus.OPEN)
    snapshots = [
        ForecastSnapshot(owner_id=r["owner"], period=period, weighted=r["weighted"], pipeline=r["pipeline"],
                         deals=r["deals"])
        for r in selectors.forecast_by_owner(deals, period)
    ]
    ForecastSnapshot.objects.bulk_create(snapshots)
    return len(snapshots)


# ---------------------------------------------------------------------------------------------
# Alerts: each flagged once per subject and period, then told to the people concerned


def _alert_once(*, kind: str, subject: Any, period: str, owner_id: int, **fields: Any) -> Alert | None:
    """The new alert, or None when this subject was already flagged in this period."""
    alert, created = Alert.objects.get_or_create(
        kind=kind, subject=str(subject), period=period, defaults={"owner_id": owner_id, **fields}
    )
    return alert if created else None


def _tell(recipient: User, kind: str, text: Callable[[], str], data: dict, sms: bool | None = None) -> None:
    with in_language_of(recipient):
        rendered = text()
    notify(recipient=recipient, kind=kind, text=rendered, data=data, sms=sms)


@transaction.atomic
def alerts_falling_accounts(*, today: date | None = None) -> list[Alert]:
    """Flag key accounts whose volume keeps falling (or dropped sharply) to their rep and the
    rep's manager, once per account per month."""
    today = today or timezone.localdate()
    period = f"{today:%Y-%m}"
    flagged = []
    for account in selectors.falling_accounts_among(Customer.objects.all(), today=today):
        alert = _alert_once(
            kind=AlertKind.FALLING_ACCOUNT, subject=account.customer_id, period=period, owner_id=account.owner_id,
            customer_id=account.customer_id,
            data={"customer": account.customer, "units": account.units[-4:], "reason": account.reason,
                  "months": [f"{m:%Y-%m}" for m in account.months[-4:]]},
        )
        if alert is None:
            continue
        owner = User.objects.select_related("manager").get(pk=account.owner_id)
        for recipient in _rep_and_manager(owner):
            _tell(recipient, "falling_account", lambda a=alert: _("Key account alert: %(message)s. Please review.")
                  % {"message": a.message}, {"alert_id": str(alert.pk), "customer_id": account.customer_id})
        flagged.append(alert)
    return flagged


def _rep_and_manager(rep: User) -> list[User]:
    return [u for u in (rep, rep.manager) if u is not None and u.is_active]


def _iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


@transaction.atomic
def alerts_stalled_deals(*, now: datetime | None = None) -> list[Alert]:
    """Flag stalled deals to their owners, once per deal per week, one notice per owner."""
    now = now or timezone.now()
    deals = Opportunity.objects.filter(status=OpportunityStatus.OPEN)
    stalled = selectors.stalled_among(deals, idle_days=selectors.IDLE_DAYS, factor=selectors.OVER_STAGE_FACTOR, now=now)
    period = _iso_week(timezone.localdate(now))
    created: dict[int, list[Alert]] = defaultdict(list)
    for deal in stalled:
        alert = _alert_once(
            kind=AlertKind.STALLED_DEAL, subject=deal.id, period=period, owner_id=deal.owner_id, opportunity_id=deal.id,
            data={"deal": deal.name, "idle": deal.idle_days, "days": deal.days_in_stage, "stage": deal.stage,
                  "suggestion": deal.suggestion},
        )
        if alert:
            created[deal.owner_id].append(alert)
    _tell_owners(created, "stalled_deals", lambda n, names: _(
        "%(n)s of your deals stalled: %(names)s. Advance or abandon them in the app.") % {"n": n, "names": names})
    return [a for alerts in created.values() for a in alerts]


@transaction.atomic
def alerts_stakeholder_gaps(*, now: datetime | None = None, min_amount: Decimal | None = None) -> list[Alert]:
    """Flag open deals over `min_amount` whose decision maker was not contacted for 60 days to
    their owners, once per deal per month."""
    now = now or timezone.now()
    min_amount = Decimal(min_amount if min_amount is not None else settings.STAKEHOLDER_GAP_MIN_AMOUNT)
    deals = Opportunity.objects.filter(status=OpportunityStatus.OPEN)
    period = f"{timezone.localdate(now):%Y-%m}"
    created: dict[int, list[Alert]] = defaultdict(list)
    for gap in selectors.stakeholder_gaps_among(deals, min_amount=min_amount, now=now):
        days = (now - gap.last_contacted).days if gap.last_contacted else None
        alert = _alert_once(
            kind=AlertKind.STAKEHOLDER_GAP, subject=gap.id, period=period, owner_id=gap.owner_id, opportunity_id=gap.id,
            data={"deal": gap.name, "days": days, "decision_maker": gap.decision_maker},
        )
        if alert:
            created[gap.owner_id].append(alert)
    _tell_owners(created, "stakeholder_gap", lambda n, names: _(
        "%(n)s big deals whose decision maker you have not met in 60 days: %(names)s.") % {"n": n, "names": names})
    return [a for alerts in created.values() for a in alerts]


def _tell_owners(created: dict[int, list[Alert]], kind: str, text: Callable[[int, str], str]) -> None:
    """One short notice per owner naming up to three deals."""
    for owner in User.objects.filter(pk__in=list(created), is_active=True):
        alerts = created[owner.pk]
        names = ", ".join(a.data["deal"][:30] for a in alerts[:3]) + ("…" if len(alerts) > 3 else "")
        _tell(owner, kind, lambda a=alerts, n=names: text(len(a), n), {"alert_ids": [str(a.pk) for a in alerts]})


# ---------------------------------------------------------------------------------------------
# The managers' morning digest


def compact(value: Decimal | int) -> str:
    """At most five characters: 950, 9.5K, 95K, 1.4M, 12B."""
    for unit, size in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if value >= size:
            scaled = Decimal(value) / size
            return f"{scaled:.1f}{unit}" if scaled < 10 else f"{scaled:.0f}{unit}"
    return f"{value:.0f}"


@dataclass(frozen=True)
class Digest:
    day: date
    units: int
    revenue: Decimal
    rewards: Decimal
    visits: int
    new_customers: int
    deals_moved: int
    best: str
    best_units: int
    alerts: int

    NAME_LENGTH = 12

    def text(self) -> str:
        """Short by construction, within 2 SMS segments even in UCS-2 (134 characters): every
        number takes at most five characters and the best rep's name at most twelve."""
        parts = {
            "day": f"{self.day:%m-%d}", "units": compact(self.units), "revenue": compact(self.revenue),
            "rewards": compact(self.rewards), "visits": compact(self.visits), "new": compact(self.new_customers),
            "moved": compact(self.deals_moved), "alerts": compact(self.alerts),
        }
        text = _("%(day)s team: %(units)s sold (%(revenue)s, rewards %(rewards)s), %(visits)s visits, "
                 "%(new)s new customers, %(moved)s deals moved, %(alerts)s alerts.") % parts
        if self.best_units:
            best = {"rep": self.best[: self.NAME_LENGTH], "units": compact(self.best_units)}
            text += " " + _("Best: %(rep)s (%(units)s)") % best
        return text


def digest_of(*, manager: User, day: date) -> Digest:
    rows = selectors.rep_day(user=manager, day=day)
    best = max(rows, key=lambda r: r.units, default=None)
    start, end = midnight(day), midnight(day + timedelta(days=1))
    alerts = scope(
        Alert.objects.exclude(kind=AlertKind.DIGEST).filter(created_at__gte=start, created_at__lt=end), manager
    ).count()
    return Digest(
        day=day, units=sum(r.units for r in rows), revenue=sum((r.revenue for r in rows), Decimal(0)),
        rewards=sum((r.rewards for r in rows), Decimal(0)), visits=sum(r.visits for r in rows),
        new_customers=sum(r.new_customers for r in rows), deals_moved=sum(r.deals_moved for r in rows),
        best=best.rep if best else "", best_units=best.units if best else 0, alerts=alerts,
    )


def digest_send(*, day: date | None = None) -> int:
    """Text and push each active manager yesterday's figures of their team, once per day (a
    number that sent STOP keeps the notice in the app only: the outbound queue suppresses it)."""
    day = day or timezone.localdate() - timedelta(days=1)
    sent = 0
    for manager in User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk"):
        with transaction.atomic():
            with in_language_of(manager):
                text = digest_of(manager=manager, day=day).text()
            if _alert_once(kind=AlertKind.DIGEST, subject=manager.pk, period=day.isoformat(), owner_id=manager.pk,
                           data={"text": text}) is None:
                continue
            notify(recipient=manager, kind="digest", text=text, data={"day": day.isoformat()}, sms=True)
            sent += 1
    return sent


# ---------------------------------------------------------------------------------------------
# Live dashboard


def dashboard_group(user_id: int) -> str:
    """The channel-layer group of one manager's or executive's open dashboards."""
    return f"dashboard.{user_id}"


def dashboard_audience(rep: User) -> set[int]:
    """Every manager above `rep`, at every level, and every executive (none for a user who does
    not exist)."""
    return set(_audiences.of({rep.pk}).get(rep.pk, ()))


class _Audiences:
    """Who watches each rep's sales, and where each branch is. The tree of managers, the executives
    and the branches are read once per change to them, not after every batch of texts: a save or
    delete of a user, branch or region bumps a version in the shared cache once committed, and
    every process reads them again when it sees a new version (and at least once a minute, for
    changes made without a save). Reps' own rows are never read: a sale carries its rep."""

    SECONDS = 60
    VERSION_KEY = "reports:people-version"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._manager_of: dict[int, int | None] = {}
            self._executives: frozenset[int] = frozenset()
            self._places: dict[int, tuple[str, str]] = {}
            self._version: int | None = None
            self._until = 0.0

    def people_changed(self, **signal: Any) -> None:
        """`post_save`/`post_delete` of a user, branch or region: every process reads the tree again
        after commit."""
        transaction.on_commit(self._bump, robust=True)  # robust: the change stands with the cache away

    def _bump(self) -> None:
        try:
            cache.incr(self.VERSION_KEY)
        except ValueError:  # no version yet
            cache.set(self.VERSION_KEY, 1, timeout=None)

    def of(self, rep_ids: set[int]) -> dict[int, frozenset[int]]:
        """The ids of the audience of each existing rep of `rep_ids`."""
        with self._lock:
            self._read_if_stale(rep_ids)
            chains = manager_chains(rep_ids & self._manager_of.keys(), self._manager_of)
            return {rep_id: frozenset(self._executives | managers) for rep_id, managers in chains.items()}

    def place(self, branch_id: int | None) -> tuple[str, str]:
        """The branch's code and its region's name ("", "" for none)."""
        if branch_id is None:
            return "", ""
        with self._lock:
            if branch_id not in self._places:  # a branch made since, with no save to tell of it
                self._read_places()
            return self._places.get(branch_id, ("", ""))

    def _read_if_stale(self, rep_ids: set[int]) -> None:
        """Read the tree again if it is old or another process changed it (the caller holds the lock)."""
        version = cache.get(self.VERSION_KEY, 0)
        stale = time.monotonic() > self._until or version != self._version
        if stale or not rep_ids <= self._manager_of.keys():  # or a rep is new
            self._manager_of = dict(User.objects.values_list("pk", "manager_id"))
            executives = User.objects.filter(Q(role=Role.EXECUTIVE) | Q(is_superuser=True), is_active=True)
            self._executives = frozenset(executives.values_list("pk", flat=True))
            self._read_places()
            self._version, self._until = version, time.monotonic() + self.SECONDS

    def _read_places(self) -> None:
        self._places = {pk: (code, region) for pk, code, region
                        in Branch.objects.values_list("pk", "code", "region__name")}


_audiences = _Audiences()
for _model in (User, Branch, Region):
    post_save.connect(_audiences.people_changed, sender=_model, dispatch_uid=f"reports.audiences.{_model.__name__}")
    post_delete.connect(_audiences.people_changed, sender=_model, dispatch_uid=f"reports.audiences.{_model.__name__}")


def sale_event(sales: list[Sale], rep: User) -> dict:
    """The websocket event of one sale report: {"type", "id", "created", "data"}."""
    first = sales[0]
    branch, region = _audiences.place(rep.branch_id)
    return {
        "type": "sale_recorded",
        "id": first.reference,
        "created": timezone.now().isoformat(),
        "data": {
            "reference": first.reference, "rep_id": rep.pk, "rep": str(rep), "branch": branch, "region": region,
            "product": first.product.code, "units": len(sales), "revenue": str(sum(s.unit_price for s in sales)),
            "customer": first.customer.name if first.customer_id else "",
            "sold_at": first.sold_at.isoformat(), "channel": first.channel,
        },
    }


def dashboard_sales_recorded(*, reports: list[list[Sale]]) -> None:
    """Tell every dashboard above each rep that their sales were recorded: one message per
    dashboard for the lot (called after commit; best effort: a dashboard that misses one shows
    the sale at its next refresh). Each sale's rep is the one it was made with."""
    reports = [sales for sales in reports if sales]
    if not reports:
        return
    audiences = _audiences.of({sales[0].rep_id for sales in reports})
    events: dict[int, list[dict]] = defaultdict(list)
    for sales in reports:
        event = sale_event(sales, sales[0].rep)
        for user_id in audiences.get(sales[0].rep_id, ()):
            events[user_id].append(event)
    send_to_groups(
        (dashboard_group(user_id), {"type": "dashboard.events", "events": lot}) for user_id, lot in events.items()
    )
