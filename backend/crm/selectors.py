"""Reads of the CRM, always through the caller's scope."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, ExpressionWrapper, F, FloatField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from backend.core.errors import ApplicationError, Forbidden, NotFound
from backend.core.phones import to_e164
from backend.core.queries import get_or_not_found
from backend.crm.models import (
    Activity,
    ConflictStatus,
    Contact,
    Customer,
    DuplicateConflict,
    Opportunity,
    OpportunityStatus,
    Stage,
    Tip,
    TipRating,
    TipUse,
)
from backend.crm.normalise import name_key
from backend.org.models import Role, User
from backend.org.scoping import scope, sees_everything


def customer_list(*, user: Any) -> QuerySet[Customer]:
    # A customer merged into another has left every list; its survivor carries everything.
    return scope(Customer.objects.filter(merged_into__isnull=True), user).select_related("owner", "region")


def customer_get(*, user: Any, customer_id: Any) -> Customer:
    return get_or_not_found(customer_list(user=user), customer_id, _("Customer not found."))


def customer_owned_elsewhere(*, phone: str | None, key: str, owner: Any) -> tuple[Customer, str] | None:
    """Another rep's customer with the same phone or normalised name, and what matched.
    A pair a manager dismissed as distinct does not match again."""
    distinct = DuplicateConflict.objects.filter(status=ConflictStatus.DISMISSED).filter(
        Q(reported_by=owner) | Q(candidate__owner=owner)
    )
    others = Customer.objects.filter(merged_into__isnull=True).exclude(owner=owner).exclude(
        pk__in=distinct.values("existing")
    )
    if phone:
        match = others.filter(phone=phone).first()
        if match:
            return match, "phone"
    if key:
        match = others.filter(name_key=key).first()
        if match:
            return match, "name"
    return None


def customer_for_hint(*, user: Any, hint: str) -> Customer:
    """The caller's customer that `hint` names: a phone number, or the start of a name.

    Raises NotFound (nothing matches), ApplicationError `ambiguous_customer` (several do).
    """
    mine = customer_list(user=user)
    phone = to_e164(hint) if any(ch.isdigit() for ch in hint) else None
    if phone:
        match = mine.filter(phone=phone).first()
        if match:
            return match
    matches = list(mine.filter(name__istartswith=hint.strip()).order_by("name")[:4])
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = ", ".join(m.name for m in matches[:3])
        raise ApplicationError(
            _("Several customers match “%(hint)s”: %(names)s.") % {"hint": hint, "names": names},
            code="ambiguous_customer",
            extra={"names": [m.name for m in matches]},
        )
    raise NotFound(_("No customer of yours matches “%(hint)s”.") % {"hint": hint}, code="unknown_customer",
                   extra={"phone": phone})


def conflict_list(*, user: Any) -> QuerySet[DuplicateConflict]:
    """The manager's list: conflicts their team ran into, or on a customer their team holds.
    Reps never see conflicts: the other side is someone else's customer."""
    if not (sees_everything(user) or getattr(user, "role", None) == Role.MANAGER):
        raise Forbidden(_("Only managers see duplicate conflicts."), code="forbidden_role")
    customers = scope(Customer.objects.all(), user).values("pk")
    reported = scope(DuplicateConflict.objects.all(), user).values("pk")
    return (
        DuplicateConflict.objects.filter(Q(pk__in=reported) | Q(existing__in=customers) | Q(candidate__in=customers))
        .select_related("existing__owner", "candidate__owner", "reported_by", "resolved_by")
        .order_by("-created_at")
    )


def conflict_get(*, user: Any, conflict_id: Any) -> DuplicateConflict:
    return get_or_not_found(conflict_list(user=user), conflict_id, _("Conflict not found."))


def conflict_sides(conflict: DuplicateConflict) -> dict:
    """Both records side by side, for the manager deciding: what each holds and who owns it."""
    return {
        "existing": _side(conflict.existing),
        "candidate": _side(conflict.candidate) if conflict.candidate_id else None,
        "proposed": conflict.proposed,
    }


def _side(customer: Customer) -> dict:
    return {
        "id": customer.pk, "name": customer.name, "phone": customer.phone, "address": customer.address,
        "owner": customer.owner, "is_key_account": customer.is_key_account, "created_at": customer.created_at,
        "merged_into": customer.merged_into_id,
        "contacts": customer.contacts.count(),
        "open_opportunities": customer.opportunities.filter(status=OpportunityStatus.OPEN).count(),
        "activities": customer.activities.count(),
        "orders": customer.orders.count(),
        "sales": customer.sales.filter(voided_at__isnull=True).count(),
    }


def customer_search(
    *, user: Any, q: str | None = None, phone: str | None = None, region: str | None = None
) -> QuerySet[Customer]:
    """The caller's customers by the start of a word of the name (or its normalised form), by
    phone (any way it is written), and by region code."""
    customers = customer_list(user=user)
    if q and q.strip():
        customers = customers.filter(Q(name__icontains=q.strip()) | Q(name_key__contains=name_key(q)))
    if phone:
        customers = customers.filter(phone=to_e164(phone) or phone)
    if region:
        customers = customers.filter(region__code__iexact=region)
    return customers


@dataclass(frozen=True)
class PhoneMatch:
    customer: Customer
    contact: Contact | None


def customer_by_phone(*, user: Any, phone: str) -> PhoneMatch:
    """Who is calling: the customer in the caller's sight whose number, or whose contact's
    number, it is. The call-centre pop-up; outside the caller's sight it is not found."""
    e164 = to_e164(phone)
    if e164:
        customer = customer_list(user=user).filter(phone=e164).first()
        if customer is not None:
            return PhoneMatch(customer, None)
        contact = contact_list(user=user).filter(phone=e164).first()
        if contact is not None:
            return PhoneMatch(contact.customer, contact)
    raise NotFound(_("No customer of yours has this number."), code="not_found")


@dataclass(frozen=True)
class OwnerPeriod:
    owner: Any
    start: datetime
    end: datetime | None  # None: the current owner
    by: Any = None  # who gave the customer to this owner (None: the system, e.g. a task or import)
    door: str = ""  # through which door (audit.context.Door)
    reason: str = ""  # the history row's change reason, e.g. "handover: Zhang left"


def customer_owners(customer: Customer) -> list[OwnerPeriod]:
    """Who owned `customer`, oldest first, from its history rows: one period per owner change."""
    periods = owner_periods(Customer.objects.filter(pk=customer.pk)).get(customer.pk)
    return periods or [OwnerPeriod(customer.owner, customer.created_at, None)]


def owner_periods(customers: QuerySet[Customer]) -> dict[Any, list[OwnerPeriod]]:
    """`customer_owners` of many customers at once (two queries): customer id → periods."""
    rows = (
        Customer.history.filter(id__in=customers.values("pk"))
        .order_by("id", "history_date", "history_id")
        .values_list("id", "owner_id", "history_date", "history_user_id", "history_door", "history_change_reason")
    )
    starts: dict[Any, list[tuple]] = {}
    for customer_id, owner_id, at, by_id, door, reason in rows:
        periods = starts.setdefault(customer_id, [])
        if not periods or periods[-1][0] != owner_id:
            periods.append((owner_id, at, by_id, door, reason or ""))
    people = User.objects.in_bulk({pk for periods in starts.values() for p in periods for pk in (p[0], p[2]) if pk})
    return {customer_id: _periods(periods, people) for customer_id, periods in starts.items()}


def _periods(starts: list[tuple], people: dict) -> list[OwnerPeriod]:
    ends = [start[1] for start in starts[1:]] + [None]
    return [
        OwnerPeriod(people.get(owner_id), at, end, people.get(by_id), door, reason)
        for (owner_id, at, by_id, door, reason), end in zip(starts, ends, strict=True)
    ]


def contact_list(*, user: Any, customer: Customer | None = None) -> QuerySet[Contact]:
    contacts = scope(Contact.objects.filter(customer__merged_into__isnull=True), user).select_related("customer")
    return contacts.filter(customer=customer) if customer is not None else contacts


def contact_get(*, user: Any, contact_id: Any) -> Contact:
    return get_or_not_found(contact_list(user=user), contact_id, _("Contact not found."))


def opportunity_list(
    *, user: Any, status: str | None = None, customer: Customer | None = None
) -> QuerySet[Opportunity]:
    deals = scope(Opportunity.objects.all(), user).select_related("customer", "owner", "stage__division")
    if status:
        deals = deals.filter(status=status)
    return deals.filter(customer=customer) if customer is not None else deals


def opportunity_get(*, user: Any, opportunity_id: Any) -> Opportunity:
    return get_or_not_found(opportunity_list(user=user), opportunity_id, _("Opportunity not found."))


def stage_list(*, division: Any = None) -> QuerySet[Stage]:
    stages = Stage.objects.select_related("division").order_by("division__code", "order")
    return stages.filter(division__code=division) if division else stages


def stage_get(*, stage_id: int) -> Stage:
    return get_or_not_found(Stage.objects.select_related("division"), stage_id, _("Stage not found."))


def activity_list(*, user: Any, customer: Customer | None = None, kind: str | None = None) -> QuerySet[Activity]:
    activities = scope(Activity.objects.all(), user).select_related("customer", "rep")
    if kind:
        activities = activities.filter(kind=kind)
    return activities.filter(customer=customer) if customer is not None else activities


def activity_get(*, user: Any, activity_id: Any) -> Activity:
    return get_or_not_found(activity_list(user=user), activity_id, _("Activity not found."))


# Tips rank by their ratings (a Bayesian average, so one 5-star vote does not beat twenty 4s)
# and by how the deals that used them ended (won against lost or abandoned, smoothed).
TIP_PRIOR_STARS = 3.0
TIP_PRIOR_WEIGHT = 3.0
TIP_RATING_SHARE = 0.6


def _count(queryset: QuerySet, what: str = "pk") -> Any:
    counted = queryset.order_by().values("tip").annotate(n=Count(what)).values("n")
    return Coalesce(Subquery(counted, output_field=FloatField()), Value(0.0))


def tip_list(*, user: Any, tag: str | None = None, q: str | None = None) -> QuerySet[Tip]:
    """Tips everyone in the company may read, best first (`rank`, with `stars`, `ratings`,
    `won` and `lost` alongside)."""
    ratings = TipRating.objects.filter(tip=OuterRef("pk"))
    uses = TipUse.objects.filter(tip=OuterRef("pk"))
    stars_sum = Coalesce(
        Subquery(ratings.order_by().values("tip").annotate(s=Sum("stars")).values("s"), output_field=FloatField()),
        Value(0.0),
    )
    tips = scope(Tip.objects.all(), user).select_related("author").prefetch_related("tags").annotate(
        ratings_count=_count(ratings),
        stars_sum=stars_sum,
        won=_count(uses.filter(opportunity__status=OpportunityStatus.WON)),
        lost=_count(uses.filter(opportunity__status__in=[OpportunityStatus.LOST, OpportunityStatus.ABANDONED])),
    ).annotate(
        stars=(F("stars_sum") + TIP_PRIOR_STARS * TIP_PRIOR_WEIGHT) / (F("ratings_count") + TIP_PRIOR_WEIGHT),
        win_rate=(F("won") + 1.0) / (F("won") + F("lost") + 2.0),
    ).annotate(
        rank=ExpressionWrapper(
            F("stars") / 5.0 * TIP_RATING_SHARE + F("win_rate") * (1 - TIP_RATING_SHARE), output_field=FloatField()
        ),
    )
    if tag:
        tips = tips.filter(tags__name=tag.strip().lower())
    if q and q.strip():
        tips = tips.filter(Q(title__icontains=q.strip()) | Q(body__icontains=q.strip()) | Q(competitor__icontains=q))
    return tips


def tip_get(*, user: Any, tip_id: Any) -> Tip:
    return get_or_not_found(tip_list(user=user), tip_id, _("Tip not found."))
