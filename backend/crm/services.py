"""Writes to the CRM. Keyword-only, validated, atomic; history and door come from audit."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import change_reason, handover_create, open_work_move
from backend.core.errors import ApplicationError, Conflict, Forbidden
from backend.core.models import FieldReport
from backend.core.phones import to_e164
from backend.core.sync import tombstone_record
from backend.crm.models import (
    Activity,
    ActivityKind,
    ConflictStatus,
    Contact,
    Customer,
    DuplicateConflict,
    LocationFlag,
    Opportunity,
    OpportunityStatus,
    Stage,
    StageEntry,
    Tag,
    Tip,
    TipComment,
    TipRating,
    TipUse,
)
from backend.crm.normalise import name_key
from backend.crm.selectors import customer_owned_elsewhere
from backend.notifications.services import in_language_of, notify
from backend.org.models import Role, User
from backend.org.scoping import sees_everything, viewer_ids
from backend.sales.models import Order, Sale

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


def locked_at_version(record: Any, expected_version: int | None) -> Any:
    """`record` locked for update, refused with 412 when the client's If-Match version is stale."""
    locked = type(record).objects.select_for_update().get(pk=record.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ApplicationError(
            _("This record was changed by someone else; here is the current one."),
            code="version_mismatch", status=412, extra={"current_version": locked.version},
        )
    return locked


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
        locked = locked_at_version(customer, expected_version)
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


# Fields a surviving record takes from the merged one when it has none of its own.
MERGE_FILLS = ("phone", "region", "address", "latitude", "longitude")


def customer_merge(*, by: Any, survivor: Customer, merged: Customer) -> Customer:
    """Merge `merged` into `survivor` in one transaction: contacts, activities, deals, orders and
    sales move over (one history row each); open work follows the survivor's owner; sales stay
    credited to their reps. `merged` is kept, marked `merged_into`, and leaves every list."""
    if survivor.pk == merged.pk:
        raise ApplicationError(_("A customer cannot be merged into itself."), code="merge_same")
    _check_manager(by)
    with transaction.atomic():
        locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])}
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        if survivor.merged_into_id or merged.merged_into_id:
            raise Conflict(_("One of these customers was already merged."), code="already_merged")
        note = change_reason("merge", f"{merged.name} → {survivor.name}")
        viewers = viewer_ids(merged)
        moved = []
        for model in (Contact, Activity, Opportunity, Order, Sale):
            for row in model.objects.select_for_update().filter(customer=merged):
                row.customer, row._change_reason = survivor, note
                if hasattr(row, "version"):
                    row.version += 1
                row.save()
                moved.append(row)
        if merged.owner_id != survivor.owner_id:
            open_work_move(customer=survivor, from_user=merged.owner, to_user=survivor.owner, note=note)
        _take_blanks(survivor, merged)
        survivor.version, survivor._change_reason = survivor.version + 1, note
        survivor.save()
        merged.merged_into, merged.version, merged._change_reason = survivor, merged.version + 1, note
        merged.save()
        # The merged record leaves everyone's sight; what moved leaves the sight of those who
        # do not see the survivor (a rep keeps their own sales and visits: scoped by rep).
        tombstone_record(instances=[merged], user_ids=viewers)
        tombstone_record(instances=moved, user_ids=viewers - viewer_ids(survivor))
    return survivor


def _take_blanks(survivor: Customer, merged: Customer) -> None:
    for name in MERGE_FILLS:
        if getattr(survivor, name) in (None, "") and getattr(merged, name) not in (None, ""):
            setattr(survivor, name, getattr(merged, name))
    survivor.is_key_account = survivor.is_key_account or merged.is_key_account
    if merged.notes and merged.notes not in survivor.notes:
        survivor.notes = "\n\n".join(part for part in (survivor.notes, merged.notes) if part)


def _conflict_for_decision(conflict: DuplicateConflict) -> DuplicateConflict:
    # Lock the conflict row only: candidate is a nullable (outer) join, which FOR UPDATE refuses.
    locked = (
        DuplicateConflict.objects.select_for_update(of=("self",))
        .select_related("existing", "candidate")
        .get(pk=conflict.pk)
    )
    if locked.status != ConflictStatus.OPEN:
        raise Conflict(_("This conflict was already resolved."), code="conflict_resolved")
    return locked


def _conflict_close(conflict: DuplicateConflict, *, by: Any, status: str, note: str) -> DuplicateConflict:
    conflict.status, conflict.resolved_by, conflict.resolved_at = status, by, timezone.now()
    conflict.resolution_note = (note or "")[:300]
    conflict.save()
    return conflict


def _check_manager(by: Any) -> None:
    if not (sees_everything(by) or by.role == Role.MANAGER):
        raise Forbidden(_("Only managers resolve duplicate conflicts."), code="forbidden_role")


def conflict_merge(
    *, by: Any, conflict: DuplicateConflict, keep: str = "existing", note: str = "",
) -> DuplicateConflict:
    """Resolve by merging the two records; `keep` names the survivor (`existing` or `candidate`)."""
    _check_manager(by)
    if keep not in ("existing", "candidate"):
        raise ApplicationError(_("Keep either the existing record or the candidate."), code="bad_survivor")
    with transaction.atomic():
        conflict = _conflict_for_decision(conflict)
        if conflict.candidate is None:
            raise ApplicationError(
                _("This conflict has no second record to merge; assign an owner or dismiss it."),
                code="nothing_to_merge",
            )
        survivor, merged = (
            (conflict.existing, conflict.candidate) if keep == "existing" else (conflict.candidate, conflict.existing)
        )
        customer_merge(by=by, survivor=survivor, merged=merged)
        return _conflict_close(conflict, by=by, status=ConflictStatus.MERGED, note=note)


def conflict_assign(*, by: Any, conflict: DuplicateConflict, owner: Any, note: str = "") -> DuplicateConflict:
    """Resolve by giving the customer (both records, when there are two) to one rep, through a
    handover so the timeline and the new owner's briefing come with it."""
    _check_manager(by)
    with transaction.atomic():
        conflict = _conflict_for_decision(conflict)
        moving = [c for c in (conflict.existing, conflict.candidate) if c is not None and c.owner_id != owner.pk]
        if moving:
            handover_create(
                by=by, to=[owner], customers=moving,
                reason=note or _("Duplicate customer conflict: assigned to one owner."),
            )
        return _conflict_close(conflict, by=by, status=ConflictStatus.ASSIGNED, note=note)


def conflict_dismiss(*, by: Any, conflict: DuplicateConflict, note: str = "") -> DuplicateConflict:
    """Resolve as two distinct customers. The rep who ran into it is told they may go ahead;
    the same pair is not flagged again."""
    _check_manager(by)
    with transaction.atomic():
        conflict = _conflict_close(_conflict_for_decision(conflict), by=by, status=ConflictStatus.DISMISSED, note=note)
        rep = conflict.reported_by
        name = conflict.candidate.name if conflict.candidate else conflict.proposed.get("name", "")
        with in_language_of(rep):
            text = _("Your manager decided that %(name)s is a distinct customer: you may go ahead.") % {"name": name}
        notify(recipient=rep, kind="conflict_resolved", text=text, data={"conflict_id": str(conflict.pk)}, sms=False)
    return conflict


# --- Contacts -------------------------------------------------------------------------------

CONTACT_FIELDS = ("name", "title", "phone", "buying_role", "is_key", "purchase_criteria", "last_contacted_at")


def contact_create(*, actor: Any, customer: Customer, id: Any = None, **fields: Any) -> Contact:
    """A person at one of the caller's customers (the caller has the customer in sight)."""
    fields["phone"] = _clean_phone(fields.get("phone"))
    with transaction.atomic():
        contact = Contact(customer=customer, **({"id": id} if id else {}), **fields)
        contact.full_clean(exclude=["customer", "id"], validate_unique=False)
        contact.save()
    return contact


def contact_update(*, actor: Any, contact: Contact, expected_version: int | None = None, **changes: Any) -> Contact:
    """Change a contact. A stale If-Match version answers 412."""
    if "phone" in changes:
        changes["phone"] = _clean_phone(changes["phone"])
    with transaction.atomic():
        locked = locked_at_version(contact, expected_version)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=["customer", "id"], validate_unique=False)
        locked.version += 1
        locked.save()
    return locked


# --- Opportunities --------------------------------------------------------------------------

OPPORTUNITY_FIELDS = ("name", "amount", "expected_close", "next_step")
CLOSED_OUTCOMES = (OpportunityStatus.WON, OpportunityStatus.LOST, OpportunityStatus.ABANDONED)


def opportunity_create(
    *, actor: Any, customer: Customer, stage: Stage, name: str, amount: Any, id: Any = None, **fields: Any
) -> Opportunity:
    """A deal on a customer the caller sees, entering its first stage now. A rep owns the deals
    they open; a manager opens them for the customer's rep."""
    now = timezone.now()
    owner = actor if actor.role == Role.REP else customer.owner
    with transaction.atomic():
        deal = Opportunity(
            **({"id": id} if id else {}), customer=customer, owner=owner, name=name, stage=stage, amount=amount,
            stage_entered_at=now, **fields,
        )
        deal.full_clean(exclude=["customer", "owner", "stage", "id"], validate_unique=False)
        deal.save()
        StageEntry.objects.create(opportunity=deal, stage=stage, entered_at=now, by=actor)
    return deal


def opportunity_update(
    *, actor: Any, opportunity: Opportunity, expected_version: int | None = None, **changes: Any
) -> Opportunity:
    """Change what a deal is worth, when it should close, and the next step."""
    with transaction.atomic():
        locked = locked_at_version(opportunity, expected_version)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=["customer", "owner", "stage", "id"], validate_unique=False)
        locked.version += 1
        locked.save()
    return locked


def _open_deal(opportunity: Opportunity, expected_version: int | None) -> Opportunity:
    locked = locked_at_version(opportunity, expected_version)
    if locked.status != OpportunityStatus.OPEN:
        raise ApplicationError(
            _("This deal is closed (%(status)s).") % {"status": locked.get_status_display()},
            code="opportunity_closed", status=409,
        )
    return locked


def opportunity_move(
    *, actor: Any, opportunity: Opportunity, stage: Stage, expected_version: int | None = None
) -> Opportunity:
    """Move an open deal to another stage of its division; time in each stage is kept."""
    with transaction.atomic():
        locked = _open_deal(opportunity, expected_version)
        if stage.division_id != locked.stage.division_id:
            raise ApplicationError(
                _("Stage %(stage)s belongs to another division's method.") % {"stage": stage.name},
                code="stage_other_division",
            )
        if stage.pk == locked.stage_id:
            return locked
        now = timezone.now()
        StageEntry.objects.filter(opportunity=locked, left_at__isnull=True).update(left_at=now)
        StageEntry.objects.create(opportunity=locked, stage=stage, entered_at=now, by=actor)
        locked.stage, locked.stage_entered_at = stage, now
        locked.version += 1
        locked.save()
    return locked


def opportunity_close(
    *, actor: Any, opportunity: Opportunity, outcome: str, reason: str = "", expected_version: int | None = None
) -> Opportunity:
    """Won, lost or abandoned. Lost and abandoned deals say why: that is what the team learns from."""
    if outcome not in CLOSED_OUTCOMES:
        raise ApplicationError(_("A deal closes as won, lost or abandoned."), code="bad_outcome")
    reason = (reason or "").strip()
    if outcome != OpportunityStatus.WON and not reason:
        raise ApplicationError(_("Say why the deal was lost or abandoned."), code="reason_required")
    with transaction.atomic():
        locked = _open_deal(opportunity, expected_version)
        now = timezone.now()
        StageEntry.objects.filter(opportunity=locked, left_at__isnull=True).update(left_at=now)
        locked.status, locked.close_reason, locked.closed_at = outcome, reason[:300], now
        locked.version += 1
        locked.save()
    return locked


# --- Visits: check-in and check-out with a judged location --------------------------------

# A check-in keeps the position the phone gave, and says how far to trust it; nothing is dropped.
FAR_FROM_CUSTOMER_M = 500
STALE_FIX_AFTER = timedelta(minutes=10)
# A fix "from the future" beyond clock skew is made up.
FUTURE_FIX_TOLERANCE = timedelta(minutes=1)
# Phones never know their place to better than a few metres: 0 or 1 m is a mock-location app.
SUSPICIOUS_ACCURACY_M = 1.0
# Faster than this between two check-ins of one rep is a position typed in, not travelled.
MAX_TRAVEL_KMH = 200.0
EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True)
class Fix:
    latitude: float
    longitude: float
    accuracy_m: float | None
    fixed_at: datetime


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def location_judge(*, rep: Any, customer: Customer, fix: Fix, now: datetime) -> tuple[str, float | None]:
    """The flag of a check-in fix and its distance from the customer (None: the customer has no
    coordinates). Suspicious beats stale beats far; an unjudgeable fix gets no flag, never `ok`."""
    distance = (
        distance_m(fix.latitude, fix.longitude, customer.latitude, customer.longitude)
        if customer.latitude is not None and customer.longitude is not None else None
    )
    if _fix_suspicious(rep, fix, now):
        return LocationFlag.SUSPICIOUS, distance
    if now - fix.fixed_at > STALE_FIX_AFTER:
        return LocationFlag.STALE, distance
    if distance is None:
        return LocationFlag.NONE, None
    return (LocationFlag.FAR if distance > FAR_FROM_CUSTOMER_M else LocationFlag.OK), distance


def _fix_suspicious(rep: Any, fix: Fix, now: datetime) -> bool:
    if fix.accuracy_m is not None and fix.accuracy_m <= SUSPICIOUS_ACCURACY_M:
        return True
    if fix.fixed_at - now > FUTURE_FIX_TOLERANCE:
        return True
    previous = (
        Activity.objects.filter(rep=rep, location_fixed_at__isnull=False, latitude__isnull=False)
        .filter(voided_at__isnull=True).order_by("-location_fixed_at").first()
    )
    if previous is None:
        return False
    metres = distance_m(previous.latitude, previous.longitude, fix.latitude, fix.longitude)
    # Either order in time: an old fix sent late is compared with the newer one just the same.
    hours = abs((fix.fixed_at - previous.location_fixed_at).total_seconds()) / 3600
    return metres > FAR_FROM_CUSTOMER_M and (hours == 0 or metres / 1000 / hours > MAX_TRAVEL_KMH)


def activity_check_in(
    *, rep: Any, customer: Customer, channel: str, fix: Fix | None = None, note: str = "",
    opportunity: Opportunity | None = None, contact: Contact | None = None, id: Any = None,
) -> Activity:
    """A visit starts: logged like any visit, with the position and how far it is trusted."""
    for part in (opportunity, contact):
        if part is not None and part.customer_id != customer.pk:
            raise ApplicationError(_("That deal or contact belongs to another customer."), code="wrong_customer")
    now = timezone.now()
    located: dict[str, Any] = {}
    if fix is not None:
        flag, distance = location_judge(rep=rep, customer=customer, fix=fix, now=now)
        located = {
            "latitude": fix.latitude, "longitude": fix.longitude, "location_accuracy_m": fix.accuracy_m,
            "location_fixed_at": fix.fixed_at, "location_flag": flag, "distance_m": distance,
        }
    return activity_log(
        rep=rep, customer=customer, kind=ActivityKind.VISIT, note=note, channel=channel, occurred_at=now, id=id,
        opportunity=opportunity, contact=contact, **located,
    )


def activity_check_out(*, rep: Any, activity: Activity, note: str = "") -> Activity:
    """The visit ends; what was said can be added to its note."""
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.rep_id != rep.pk:
            raise Forbidden(_("Only the rep who checked in checks out."), code="forbidden")
        if locked.kind != ActivityKind.VISIT or locked.voided_at is not None:
            raise ApplicationError(_("Only a live visit is checked out."), code="not_a_visit")
        if locked.checked_out_at is not None:
            raise ApplicationError(_("This visit is already checked out."), code="already_checked_out", status=409)
        locked.checked_out_at = timezone.now()
        if note.strip():
            locked.note = "\n".join(part for part in (locked.note, note.strip()) if part)
        locked.save(update_fields=["checked_out_at", "note", "updated_at"])
    return locked


# --- Tips: shared ways to win ---------------------------------------------------------------

def _tags(names: Any) -> list[Tag]:
    cleaned = sorted({n.strip().lower()[:50] for n in names or [] if n and n.strip()})
    return [Tag.objects.get_or_create(name=name)[0] for name in cleaned]


def tip_share(
    *, author: Any, title: str, body: str, competitor: str = "", tags: Any = (), id: Any = None
) -> Tip:
    """Share a way to win; colleagues of the author's branch are told (in the app, not by text)."""
    if author.role not in (Role.REP, Role.MANAGER):
        raise Forbidden(_("Reps and managers share tips."), code="forbidden_role")
    with transaction.atomic():
        tip = Tip(**({"id": id} if id else {}), author=author, title=title, body=body, competitor=competitor)
        tip.full_clean(exclude=["author", "id"], validate_unique=False)
        tip.save()
        tip.tags.set(_tags(tags))
        _tell_colleagues(tip)
    return tip


def _tell_colleagues(tip: Tip) -> None:
    if tip.author.branch_id is None:
        return
    colleagues = User.objects.filter(
        branch_id=tip.author.branch_id, is_active=True, role__in=(Role.REP, Role.MANAGER)
    ).exclude(pk=tip.author.pk)
    for colleague in colleagues:
        with in_language_of(colleague):
            text = _("%(author)s shared a tip: %(title)s") % {"author": tip.author, "title": tip.title}
        notify(recipient=colleague, kind="tip", text=text, data={"tip_id": str(tip.pk)}, sms=False)


def _touch(tip: Tip) -> None:
    # Ratings, comments and uses change how the tip ranks: clients pull it again.
    tip.save(update_fields=["updated_at"])


def tip_tag(*, user: Any, tip: Tip, tags: Any) -> Tip:
    with transaction.atomic():
        tip.tags.add(*_tags(tags))
        _touch(tip)
    return tip


def tip_rate(*, user: Any, tip: Tip, stars: int) -> TipRating:
    """One rating per person and tip (rating again changes it); nobody rates their own."""
    if tip.author_id == user.pk:
        raise Forbidden(_("You cannot rate your own tip."), code="own_tip")
    if not 1 <= stars <= 5:
        raise ApplicationError(_("Stars go from 1 to 5."), code="bad_stars")
    with transaction.atomic():
        rating, _created = TipRating.objects.update_or_create(tip=tip, user=user, defaults={"stars": stars})
        _touch(tip)
    return rating


def tip_comment(*, user: Any, tip: Tip, body: str, id: Any = None) -> TipComment:
    if not (body or "").strip():
        raise ApplicationError(_("A comment needs some text."), code="empty_comment")
    with transaction.atomic():
        comment = TipComment.objects.create(**({"id": id} if id else {}), tip=tip, author=user, body=body.strip())
        _touch(tip)
    return comment


def tip_use(*, user: Any, tip: Tip, opportunity: Opportunity) -> TipUse:
    """The caller used the tip on one of their deals; how that deal ends ranks the tip."""
    with transaction.atomic():
        use, _created = TipUse.objects.get_or_create(tip=tip, opportunity=opportunity, defaults={"user": user})
        _touch(tip)
    return use
