"""Handovers, ownership over time (also as CSV), change logs, and duplicate conflicts."""

from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status

from audit.selectors import (
    change_log,
    customer_briefing,
    customers_ever_owned_by,
    logged_record,
    owner_on,
    ownership_dataset,
    ownership_timeline,
    rep_handovers,
)
from audit.services import handover_create
from backend.core.errors import ApplicationError, NotFound
from backend.crm.models import Customer
from backend.crm.selectors import conflict_get, conflict_list, conflict_sides, customer_get, customer_owners
from backend.crm.services import conflict_assign, conflict_dismiss, conflict_merge
from backend.org.models import User
from backend.org.scoping import scope, visible_users
from mobile_api.auth import device_auth, manager_auth
from mobile_api.idempotency import IDEMPOTENT
from mobile_api.pagination import keyset_page
from mobile_api.schemas.common import ERRORS, page_of
from mobile_api.schemas.ownership import (
    BriefingOut,
    ChangeOut,
    ConflictDetailOut,
    ConflictOut,
    HandoverIn,
    HandoverOut,
    OwnershipPeriodOut,
    RepOwnershipOut,
    ResolveIn,
)

router = Router(tags=["ownership"], auth=device_auth)
ConflictPage = page_of(ConflictOut)
CSV_EXAMPLE = (
    "customer_id,customer,owner,owner_name,from,to,changed_by,door,reason\r\n"
    "0b6f3c1e-8a47-4d7e-9a51-6c2f0e4f1d11,Wuhan Motors Ltd,zhang,Wei Zhang,2025-05-01T09:00:00+08:00,"
    "2026-11-23T10:00:00+08:00,,system,\r\n"
    "0b6f3c1e-8a47-4d7e-9a51-6c2f0e4f1d11,Wuhan Motors Ltd,li,Na Li,2026-11-23T10:00:00+08:00,,Fang Wang,app,"
    "handover: Wei Zhang left the company\r\n"
)
CSV_RESPONSE = {"responses": {200: {
    "description": "CSV, one row per ownership period",
    "content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}},
}}}


def _person(request: HttpRequest, user_id: int) -> User:
    person = visible_users(request.auth).filter(pk=user_id).first()
    if person is None:
        raise NotFound(_("Person not found."), code="not_found")
    return person


def _csv(lines: list, filename: str) -> HttpResponse:
    response = HttpResponse(ownership_dataset(lines).export("csv"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.post("/handovers", auth=manager_auth, response={201: HandoverOut, **ERRORS},
             summary="Hand customers over to other reps", openapi_extra=IDEMPOTENT)
def handover(request: HttpRequest, payload: HandoverIn) -> Status:
    """Managers and executives. Open deals, open orders and unacknowledged shipments move with
    each customer; past sales stay credited. The old owner gets 404 from the next request on,
    and tombstones on the next sync; each new owner is notified with a briefing per customer."""
    customers = None
    if payload.customer_ids is not None:
        customers = [customer_get(user=request.auth, customer_id=pk) for pk in payload.customer_ids]
    made = handover_create(
        by=request.auth, reason=payload.reason, customers=customers,
        to=[_person(request, pk) for pk in payload.to_user_ids],
        from_user=_person(request, payload.from_user_id) if payload.from_user_id is not None else None,
    )
    return Status(201, made)


@router.get("/reps/{user_id}", response={200: RepOwnershipOut, **ERRORS},
            summary="What a rep handed over and received, and every customer they owned")
def rep_ownership(request: HttpRequest, user_id: int) -> dict:
    """Yourself, or someone in your team (managers), or anyone (executives)."""
    rep = _person(request, user_id)
    return {
        **rep_handovers(user=request.auth, rep=rep),
        "periods": ownership_timeline(customers=customers_ever_owned_by(rep), rep=rep),
    }


@router.get("/customers/{customer_id}/owners", response={200: list[OwnershipPeriodOut], **ERRORS},
            summary="Who owned a customer, from when to when")
def owners(request: HttpRequest, customer_id: UUID) -> list:
    return customer_owners(customer_get(user=request.auth, customer_id=customer_id))


@router.get("/customers/{customer_id}/owner-on", response={200: OwnershipPeriodOut, **ERRORS},
            summary="Who owned a customer on a given date")
def owner_on_date(request: HttpRequest, customer_id: UUID, on: date) -> object:
    """The owner at the end of that day (local time); 404 when the customer did not exist yet."""
    customer = customer_get(user=request.auth, customer_id=customer_id)
    period = owner_on(customer, timezone.make_aware(datetime.combine(on + timedelta(days=1), time.min)))
    if period is None:
        raise NotFound(_("The customer did not exist on that date."), code="not_found")
    return period


@router.get("/customers/{customer_id}/owners.csv", response=ERRORS, summary="A customer's ownership periods as CSV",
            openapi_extra=CSV_RESPONSE)
def owners_csv(request: HttpRequest, customer_id: UUID) -> HttpResponse:
    customer = customer_get(user=request.auth, customer_id=customer_id)
    return _csv(ownership_timeline(customers=Customer.objects.filter(pk=customer.pk)), f"owners-{customer.pk}.csv")


@router.get("/owners.csv", response=ERRORS, summary="Ownership periods of every customer in my sight, as CSV",
            openapi_extra=CSV_RESPONSE)
def all_owners_csv(request: HttpRequest, rep_id: int | None = None) -> HttpResponse:
    """With `rep_id`: only that rep's periods, across every customer they ever owned."""
    if rep_id is not None:
        rep = _person(request, rep_id)
        return _csv(ownership_timeline(customers=customers_ever_owned_by(rep), rep=rep), f"owners-{rep.username}.csv")
    return _csv(ownership_timeline(customers=scope(Customer.objects.all(), request.auth)), "owners.csv")


@router.get("/customers/{customer_id}/briefing", response={200: BriefingOut, **ERRORS},
            summary="A customer's briefing: key contacts, open deals, last visits and orders, notes")
def briefing(request: HttpRequest, customer_id: UUID) -> dict:
    return customer_briefing(customer_get(user=request.auth, customer_id=customer_id))


@router.get("/changes/{kind}/{record_id}", response={200: list[ChangeOut], **ERRORS},
            summary="The change log of a record")
def changes(request: HttpRequest, kind: str, record_id: UUID) -> list:
    """`kind`: customer, contact, opportunity, activity, order, shipment, sale, or conflict
    (managers). Who changed which field from what to what, when, through which door (sms, app,
    admin, api_key, system), oldest first."""
    return change_log(logged_record(user=request.auth, kind=kind, record_id=record_id))


@router.get("/conflicts", auth=manager_auth, response={200: ConflictPage, **ERRORS},
            summary="Duplicate-customer conflicts to resolve")
def conflicts(request: HttpRequest, status: str | None = "open", cursor: str | None = None, limit: int = 50) -> object:
    """Found by the API, by SMS and by imports: those your team ran into or that touch your
    team's customers. `status`: open (default), merged, assigned, dismissed, or empty for all."""
    found = conflict_list(user=request.auth)
    if status:
        found = found.filter(status=status)
    return keyset_page(found, order=("-created_at", "-id"), cursor=cursor, limit=limit)


@router.get("/conflicts/{conflict_id}", auth=manager_auth, response={200: ConflictDetailOut, **ERRORS},
            summary="One conflict, both records side by side")
def conflict_detail(request: HttpRequest, conflict_id: UUID) -> dict:
    conflict = conflict_get(user=request.auth, conflict_id=conflict_id)
    return {"conflict": conflict, **conflict_sides(conflict)}


@router.post("/conflicts/{conflict_id}/resolve", auth=manager_auth, response={200: ConflictOut, **ERRORS},
             summary="Resolve a conflict: merge, assign one owner, or dismiss", openapi_extra=IDEMPOTENT)
def resolve(request: HttpRequest, conflict_id: UUID, payload: ResolveIn) -> object:
    """Merging moves contacts, activities, deals, orders and sales to the record kept; the other
    is kept too, marked as merged, and leaves every list."""
    conflict = conflict_get(user=request.auth, conflict_id=conflict_id)
    if payload.action == "merge":
        return conflict_merge(by=request.auth, conflict=conflict, keep=payload.keep, note=payload.note)
    if payload.action == "assign":
        if payload.owner_id is None:
            raise ApplicationError(_("Name the rep who will own the customer (owner_id)."), code="owner_required")
        owner = _person(request, payload.owner_id)
        return conflict_assign(by=request.auth, conflict=conflict, owner=owner, note=payload.note)
    return conflict_dismiss(by=request.auth, conflict=conflict, note=payload.note)
