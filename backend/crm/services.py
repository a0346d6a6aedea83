"""Writes to the CRM. Keyword-only, validated, atomic; history and door come from audit."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.core.errors import ApplicationError, Conflict, Forbidden
from backend.core.models import FieldReport
from backend.core.phones import to_e164
from backend.crm.models import Activity, ActivityKind, Customer, DuplicateConflict
from backend.crm.normalise import name_key
from backend.crm.selectors import customer_owned_elsewhere
from backend.notifications.services import in_language_of, notify
from backend.org.models import Role

CUSTOMER_FIELDS = (
    "name", "phone", "region", "address", "latitude", "longitude", "is_key_account", "payment_terms_days", "notes",
)


def _clean_phone(raw: str | None) -> str | None:
    if not raw:
        return None
    phone = to_e164(raw)
    if phone is None:
        raise ApplicationError(_("“%(phone)s” is not a phone number.") % {"phone": raw}, code="bad_phone")
    return phone


def conflict_open(
    *, existing: Customer, reported_by: Any, source: str, matched_on: str,
    proposed: dict | None = None, candidate: Customer | None = None,
) -> DuplicateConflict:
    """Record that two reps appear to work one customer, and tell the managers concerned."""
    conflict = DuplicateConflict.objects.create(
        existing=existing, candidate=candidate, proposed=proposed or {}, reported_by=reported_by,
        source=source, matched_on=matched_on,
    )
    for manager in {m for m in (reported_by.manager, existing.owner.manager) if m is not None}:
        with in_language_of(manager):
            text = _("Possible duplicate customer reported by %(rep)s: please review conflict %(id)s.") % {
                "rep": reported_by, "id": str(conflict.pk)[:8],
            }
        notify(recipient=manager, kind="conflict", text=text, data={"conflict_id": str(conflict.pk)}, sms=False)
    return conflict


def _refuse_duplicate(*, owner: Any, actor: Any, source: str, phone: str | None, key: str, proposed: dict) -> None:
    clash = customer_owned_elsewhere(phone=phone, key=key, owner=owner)
    if clash is None:
        return
    existing, matched_on = clash
    # The conflict must outlive the refusal, so it commits on its own.
    with transaction.atomic():
        conflict = conflict_open(
            existing=existing, reported_by=actor, source=source, matched_on=matched_on, proposed=proposed
        )
    raise Conflict(
        _("This customer may already be served by another rep; your manager has been asked to decide."),
        code="duplicate_customer",
        extra={"conflict_id": str(conflict.pk)},
    )


def customer_create(*, actor: Any, owner: Any | None = None, source: str, id: Any = None, **fields: Any) -> Customer:
    """A new customer. A phone or name that another rep's customer already has answers 409."""
    owner = owner or actor
    if owner.role != Role.REP and actor.role == Role.REP:
        raise Forbidden(_("A rep creates customers for themselves."), code="forbidden")
    fields["phone"] = _clean_phone(fields.get("phone"))
    key = name_key(fields["name"])
    proposed = {k: str(v) for k, v in fields.items() if v not in (None, "")}
    _refuse_duplicate(owner=owner, actor=actor, source=source, phone=fields["phone"], key=key, proposed=proposed)
    with transaction.atomic():
        customer = Customer(owner=owner, **({"id": id} if id else {}), **fields)
        customer.full_clean(exclude=["owner", "name_key", "region", "id"], validate_unique=False)
        customer.save()
    return customer


def customer_update(
    *, actor: Any, customer: Customer, source: str, expected_version: int | None = None, **changes: Any
) -> Customer:
    """Change a customer. `expected_version` (If-Match) that is not the current one: 412."""
    if "phone" in changes:
        changes["phone"] = _clean_phone(changes["phone"])
    key = name_key(changes.get("name", customer.name))
    if "phone" in changes or "name" in changes:
        proposed = {k: str(v) for k, v in changes.items() if v not in (None, "")}
        _refuse_duplicate(owner=customer.owner, actor=actor, source=source, phone=changes.get("phone", customer.phone),
                          key=key, proposed=proposed)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if expected_version is not None and locked.version != expected_version:
            raise ApplicationError(
                _("This customer was changed by someone else; here is the current record."),
                code="version_mismatch", status=412, extra={"current_version": locked.version},
            )
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.version += 1
        locked.save()
    return locked


def activity_log(
    *, rep: Any, customer: Customer, kind: str = ActivityKind.VISIT, note: str = "", channel: str,
    occurred_at: datetime | None = None, id: Any = None, **extra: Any,
) -> Activity:
    """Record a visit, call, meeting or note. SMS and app visits get a reference UNDO accepts."""
    if rep.role != Role.REP and customer.owner_id != rep.pk:
        raise Forbidden(_("Only the customer's rep logs activities on it."), code="forbidden")
    with transaction.atomic():
        report = FieldReport.objects.create(kind=FieldReport.Kind.VISIT, reporter=rep, channel=channel)
        activity = Activity.objects.create(
            **({"id": id} if id else {}), customer=customer, rep=rep, kind=kind, note=note, channel=channel,
            occurred_at=occurred_at or timezone.now(), reference=report.reference, **extra,
        )
    return activity


def activity_void(*, report: FieldReport, by: Any) -> int:
    """Void the activity of a report; the history keeps both states."""
    now = timezone.now()
    count = 0
    for activity in Activity.objects.filter(reference=report.reference, voided_at__isnull=True):
        activity.voided_at = now
        activity.save(update_fields=["voided_at", "updated_at"])
        count += 1
    return count
