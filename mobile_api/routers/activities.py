from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from backend.crm.selectors import activity_get, activity_list, contact_get, customer_get, opportunity_get
from backend.crm.services import Fix, activity_check_in, activity_check_out, activity_log
from mobile_api.auth import device_auth
from mobile_api.idempotency import IDEMPOTENT
from mobile_api.pagination import keyset_page
from mobile_api.routers.common import door_of
from mobile_api.schemas.common import ERRORS, ErrorOut, page_of
from mobile_api.schemas.crm import ActivityIn, ActivityOut, CheckInIn, CheckOutIn

router = Router(tags=["activities"], auth=device_auth)
ActivityPage = page_of(ActivityOut)


def _parts(request: HttpRequest, payload: CheckInIn | ActivityIn) -> dict:
    user = request.auth
    return {
        "customer": customer_get(user=user, customer_id=payload.customer_id),
        "opportunity": opportunity_get(user=user, opportunity_id=payload.opportunity_id)
        if payload.opportunity_id else None,
        "contact": contact_get(user=user, contact_id=payload.contact_id) if payload.contact_id else None,
    }


@router.get("", response={200: ActivityPage, **ERRORS}, summary="List visits, calls and notes")
def activities(request: HttpRequest, customer_id: UUID | None = None, kind: str | None = None,
               cursor: str | None = None, limit: int = 50) -> object:
    """Newest first."""
    customer = customer_get(user=request.auth, customer_id=customer_id) if customer_id else None
    found = activity_list(user=request.auth, customer=customer, kind=kind)
    return keyset_page(found, order=("-occurred_at", "-id"), cursor=cursor, limit=limit)


@router.post("", response={201: ActivityOut, **ERRORS}, summary="Log a call, meeting or note",
             openapi_extra=IDEMPOTENT)
def create(request: HttpRequest, payload: ActivityIn) -> Status:
    parts = _parts(request, payload)
    activity = activity_log(rep=request.auth, kind=payload.kind, note=payload.note, channel=door_of(request),
                            occurred_at=payload.occurred_at, id=payload.id, **parts)
    return Status(201, activity_get(user=request.auth, activity_id=activity.pk))


@router.post("/check-in", response={201: ActivityOut, **ERRORS}, summary="Check in at a customer (a visit starts)",
             openapi_extra=IDEMPOTENT)
def check_in(request: HttpRequest, payload: CheckInIn) -> Status:
    """The location is kept and flagged: `ok` within 500 m of the customer, `far` beyond,
    `stale` for a fix older than 10 minutes, `suspicious` for a mock-like or impossible one."""
    where = payload.location
    fix = Fix(where.latitude, where.longitude, where.accuracy_m, where.fixed_at) if where else None
    activity = activity_check_in(rep=request.auth, channel=door_of(request), fix=fix, note=payload.note, id=payload.id,
                                 **_parts(request, payload))
    return Status(201, activity_get(user=request.auth, activity_id=activity.pk))


@router.post("/{activity_id}/check-out", response={200: ActivityOut, 409: ErrorOut, **ERRORS},
             summary="Check out (the visit ends)", openapi_extra=IDEMPOTENT)
def check_out(request: HttpRequest, activity_id: UUID, payload: CheckOutIn) -> object:
    activity = activity_check_out(rep=request.auth, activity=activity_get(user=request.auth, activity_id=activity_id),
                                  note=payload.note)
    return activity_get(user=request.auth, activity_id=activity.pk)


@router.get("/{activity_id}", response={200: ActivityOut, **ERRORS}, summary="One activity")
def detail(request: HttpRequest, activity_id: UUID) -> object:
    return activity_get(user=request.auth, activity_id=activity_id)
