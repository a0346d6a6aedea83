"""Reads of the record's past: change logs from django-simple-history, ownership over time,
handovers, and the briefing a new owner gets. Callers check the record is in scope first."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _
from simple_history.models import DeletedObject
from simple_history.utils import get_m2m_reverse_field_name
from tablib import Dataset

from audit.context import Door
from audit.models import HandoverItem
from backend.core.errors import NotFound
from backend.crm.models import Activity, Contact, Customer, Opportunity, OpportunityStatus
from backend.crm.selectors import OwnerPeriod, conflict_get, customer_owners, owner_periods
from backend.org.scoping import scope, visible_users
from backend.sales.models import Order, Sale, Shipment

# Bookkeeping columns: they change on every save and tell a reader nothing.
NOT_SHOWN = frozenset({"id", "created_at", "updated_at", "sync_stamp", "version", "name_key"})
BRIEFING_ACTIVITIES = 5
BRIEFING_ORDERS = 5
ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ChangeEntry:
    at: datetime
    action: str  # created | changed | deleted
    user: Any | None
    door: str
    api_key_name: str
    reason: str
    changes: list[FieldChange]

    @property
    def who(self) -> str:
        """A person, else the integration's key, else the system (a background task)."""
        if self.user is not None:
            return str(self.user)
        return self.api_key_name or str(Door(self.door).label)


def change_log(instance: Model) -> list[ChangeEntry]:
    """Every change of `instance`, oldest first: who changed which field from what to what,
    when, through which door. Saves that changed nothing visible and gave no reason are left out."""
    rows = list(instance.history.select_related("history_user").order_by("history_date", "history_id"))
    fields = _shown_fields(instance)
    entries, previous = [], None
    for row in rows:
        changes = _changes(row, previous, fields)
        previous = row
        if row.history_type == "~" and not changes and not row.history_change_reason:
            continue
        entries.append(ChangeEntry(
            at=row.history_date, action=ACTIONS[row.history_type], user=row.history_user,
            door=getattr(row, "history_door", Door.SYSTEM), api_key_name=getattr(row, "history_api_key_name", ""),
            reason=row.history_change_reason or "", changes=changes,
        ))
    return entries


def _shown_fields(instance: Model) -> list[str]:
    tracked = instance.history.model.tracked_fields
    return [f.name for f in tracked if f.name not in NOT_SHOWN]


def _changes(row: Any, previous: Any | None, fields: list[str]) -> list[FieldChange]:
    """Compared here rather than with `diff_against`, which skips non-editable fields (a merge's
    `merged_into`); many-to-many fields (sharing) come from `diff_against`."""
    if row.history_type == "-":
        return []
    meta = row.instance_type._meta
    changes = []
    for name in fields:
        field = meta.get_field(name)
        old = getattr(previous, field.attname) if previous is not None else None
        new = getattr(row, field.attname)
        if old != new and (previous is not None or new not in (None, "")):
            changes.append(FieldChange(
                field=name, label=str(field.verbose_name),
                old=_shown(field, _related(previous, field)), new=_shown(field, _related(row, field)),
            ))
    m2m = [f.name for f in getattr(row, "_history_m2m_fields", [])]
    if previous is not None and m2m:
        delta = row.diff_against(previous, included_fields=m2m, foreign_keys_are_objs=True)
        changes += [_change(meta, c.field, c.old, c.new) for c in delta.changes]
    return changes


def _related(row: Any | None, field: Any) -> Any:
    """The value of `field` on a history row, the related object for a foreign key."""
    if row is None:
        return None
    if not field.is_relation:
        return getattr(row, field.attname)
    try:
        return getattr(row, field.name)
    except ObjectDoesNotExist:  # deleted since: show its id
        return getattr(row, field.attname)


def _change(meta: Any, name: str, old: Any, new: Any) -> FieldChange:
    field = meta.get_field(name)
    return FieldChange(field=name, label=str(field.verbose_name), old=_shown(field, old), new=_shown(field, new))


def _shown(field: Any, value: Any) -> Any:
    """A value as a reader understands it: names rather than ids, labels rather than codes."""
    if value is None or value == "":
        return None
    if isinstance(value, list):  # many-to-many: rows of the through table
        reverse = get_m2m_reverse_field_name(field)
        return sorted(str(row[reverse]) for row in value)
    if isinstance(value, Model | DeletedObject):
        return str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def customer_briefing(customer: Customer) -> dict:
    """What a new owner needs on day one: key contacts and their roles, open deals and their
    stages, the last activities and orders, notes. Plain JSON: it travels in a notification."""
    contacts = customer.contacts.order_by("-is_key", "name")
    deals = customer.opportunities.filter(status=OpportunityStatus.OPEN).select_related("stage").order_by("-amount")
    activities = (
        customer.activities.filter(voided_at__isnull=True).select_related("rep").order_by("-occurred_at")
    )[:BRIEFING_ACTIVITIES]
    orders = Order.objects.filter(customer=customer).select_related("rep").order_by("-ordered_at")[:BRIEFING_ORDERS]
    return {
        "customer_id": str(customer.pk),
        "name": customer.name,
        "phone": customer.phone,
        "is_key_account": customer.is_key_account,
        "notes": customer.notes,
        "key_contacts": [
            {"name": c.name, "title": c.title, "phone": c.phone, "buying_role": c.buying_role,
             "buying_role_label": str(c.get_buying_role_display()), "is_key": c.is_key}
            for c in contacts if c.is_key or c.buying_role != "user"
        ],
        "open_deals": [
            {"id": str(d.pk), "name": d.name, "stage": d.stage.name, "probability": d.stage.probability,
             "amount": str(d.amount), "expected_close": d.expected_close.isoformat() if d.expected_close else None,
             "next_step": d.next_step}
            for d in deals
        ],
        "last_activities": [
            {"kind": a.kind, "occurred_at": a.occurred_at.isoformat(), "rep": str(a.rep), "note": a.note}
            for a in activities
        ],
        "last_orders": [
            {"number": o.number, "status": o.status, "amount": str(o.amount),
             "ordered_at": o.ordered_at.isoformat(), "rep": str(o.rep)}
            for o in orders
        ],
    }


def handover_items(*, user: Any) -> QuerySet[HandoverItem]:
    """Handover lines that concern someone `user` may see (themselves, their team, all)."""
    people = visible_users(user).values("pk")
    return (
        HandoverItem.objects.filter(Q(from_user__in=people) | Q(to_user__in=people))
        .select_related("handover__by", "customer", "from_user", "to_user")
        .order_by("-handover__created_at", "customer__name")
    )


def rep_handovers(*, user: Any, rep: Any) -> dict[str, list[HandoverItem]]:
    """What `rep` handed over and what they received, newest first."""
    items = list(handover_items(user=user).filter(Q(from_user=rep) | Q(to_user=rep)))
    return {
        "handed_over": [item for item in items if item.from_user_id == rep.pk],
        "received": [item for item in items if item.to_user_id == rep.pk],
    }


@dataclass(frozen=True)
class OwnershipLine:
    customer: Customer
    period: OwnerPeriod


def ownership_timeline(*, customers: QuerySet[Customer], rep: Any = None) -> list[OwnershipLine]:
    """Every ownership period of `customers` (already scoped by the caller), oldest first per
    customer; only `rep`'s own periods when a rep is given."""
    customers = customers.select_related(None).order_by("name", "pk")
    periods = owner_periods(customers)
    lines = [
        OwnershipLine(customer, period)
        for customer in customers
        for period in periods.get(customer.pk) or customer_owners(customer)
    ]
    return [line for line in lines if rep is None or getattr(line.period.owner, "pk", None) == rep.pk]


def customers_ever_owned_by(rep: Any) -> QuerySet[Customer]:
    """Every customer `rep` owns or once owned, from the history rows (merged ones included)."""
    return Customer.objects.filter(pk__in=Customer.history.filter(owner_id=rep.pk).values("id"))


def owner_on(customer: Customer, moment: datetime) -> OwnerPeriod | None:
    """Who owned `customer` at `moment`; None before it existed."""
    for period in customer_owners(customer):
        if period.start <= moment and (period.end is None or moment < period.end):
            return period
    return None


OWNERSHIP_HEADERS = ("customer_id", "customer", "owner", "owner_name", "from", "to", "changed_by", "door", "reason")


def ownership_dataset(lines: list[OwnershipLine]) -> Dataset:
    """The timeline as a table: `.export("csv")` or `.export("xlsx")`."""
    dataset = Dataset(headers=list(OWNERSHIP_HEADERS))
    for line in lines:
        period = line.period
        dataset.append([
            str(line.customer.pk), line.customer.name, getattr(period.owner, "username", ""), str(period.owner or ""),
            period.start.isoformat(), period.end.isoformat() if period.end else "",
            str(period.by or ""), period.door, period.reason,
        ])
    return dataset


# The records whose change log the API serves, by the name clients use.
LOGGED_KINDS: dict[str, type[Model]] = {
    "customer": Customer, "contact": Contact, "opportunity": Opportunity, "activity": Activity,
    "order": Order, "shipment": Shipment, "sale": Sale,
}


def logged_record(*, user: Any, kind: str, record_id: Any) -> Model:
    """The record `user` asks the change log of, if they may see it; conflicts for managers only.
    Merged customers keep their log (they are still in their owner's scope)."""
    if kind == "conflict":
        return conflict_get(user=user, conflict_id=record_id)
    model = LOGGED_KINDS.get(kind)
    record = scope(model.objects.filter(pk=record_id), user).first() if model is not None else None
    if record is None:
        raise NotFound(_("Record not found."), code="not_found")
    return record
