from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from backend.crm.selectors import customer_get, opportunity_get, opportunity_list, stage_get, stage_list
from backend.crm.services import opportunity_close, opportunity_create, opportunity_move, opportunity_update
from mobile_api.auth import device_auth
from mobile_api.idempotency import IDEMPOTENT
from mobile_api.pagination import keyset_page
from mobile_api.routers.common import changes_of, current_on_mismatch, if_match
from mobile_api.schemas.common import ERRORS, ErrorOut, page_of
from mobile_api.schemas.crm import (
    CloseIn,
    OpportunityIn,
    OpportunityOut,
    OpportunityPatch,
    StageMoveIn,
    StageOut,
)

router = Router(tags=["opportunities"], auth=device_auth)
OpportunityPage = page_of(OpportunityOut)


@router.get("/stages", response={200: list[StageOut], **ERRORS}, summary="The stages of each division's method")
def stages(request: HttpRequest, division: str | None = None) -> object:
    return list(stage_list(division=division))


@router.get("", response={200: OpportunityPage, **ERRORS}, summary="List deals")
def opportunities(request: HttpRequest, status: str | None = None, customer_id: UUID | None = None,
                  cursor: str | None = None, limit: int = 50) -> object:
    """Newest first; filter by `status` (open, won, lost, abandoned) or customer."""
    customer = customer_get(user=request.auth, customer_id=customer_id) if customer_id else None
    deals = opportunity_list(user=request.auth, status=status, customer=customer)
    return keyset_page(deals, order=("-created_at", "-id"), cursor=cursor, limit=limit)


@router.post("", response={201: OpportunityOut, **ERRORS}, summary="Open a deal", openapi_extra=IDEMPOTENT)
def create(request: HttpRequest, payload: OpportunityIn) -> Status:
    deal = opportunity_create(
        actor=request.auth, customer=customer_get(user=request.auth, customer_id=payload.customer_id),
        stage=stage_get(stage_id=payload.stage_id), **payload.dict(exclude={"customer_id", "stage_id"}),
    )
    return Status(201, opportunity_get(user=request.auth, opportunity_id=deal.pk))


@router.get("/{opportunity_id}", response={200: OpportunityOut, **ERRORS}, summary="One deal")
def detail(request: HttpRequest, opportunity_id: UUID) -> object:
    return opportunity_get(user=request.auth, opportunity_id=opportunity_id)


def _stale_guard(request: HttpRequest, opportunity_id: UUID) -> object:
    current = lambda: opportunity_get(user=request.auth, opportunity_id=opportunity_id)  # noqa: E731
    return current_on_mismatch(OpportunityOut, current)


@router.patch("/{opportunity_id}", response={200: OpportunityOut, 412: ErrorOut, **ERRORS}, summary="Change a deal")
def update(request: HttpRequest, opportunity_id: UUID, payload: OpportunityPatch) -> object:
    """Send `If-Match: <version>`; a stale version answers 412 with the current record in `current`."""
    deal = opportunity_get(user=request.auth, opportunity_id=opportunity_id)
    with _stale_guard(request, opportunity_id):
        opportunity_update(actor=request.auth, opportunity=deal, expected_version=if_match(request),
                           **changes_of(payload, frozenset({"expected_close"})))
    return opportunity_get(user=request.auth, opportunity_id=opportunity_id)


@router.post("/{opportunity_id}/stage", response={200: OpportunityOut, 409: ErrorOut, 412: ErrorOut, **ERRORS},
             summary="Move a deal to another stage", openapi_extra=IDEMPOTENT)
def move(request: HttpRequest, opportunity_id: UUID, payload: StageMoveIn) -> object:
    deal = opportunity_get(user=request.auth, opportunity_id=opportunity_id)
    with _stale_guard(request, opportunity_id):
        opportunity_move(actor=request.auth, opportunity=deal, stage=stage_get(stage_id=payload.stage_id),
                         expected_version=if_match(request))
    return opportunity_get(user=request.auth, opportunity_id=opportunity_id)


@router.post("/{opportunity_id}/close", response={200: OpportunityOut, 409: ErrorOut, 412: ErrorOut, **ERRORS},
             summary="Close a deal as won, lost or abandoned", openapi_extra=IDEMPOTENT)
def close(request: HttpRequest, opportunity_id: UUID, payload: CloseIn) -> object:
    """Lost and abandoned need a reason."""
    deal = opportunity_get(user=request.auth, opportunity_id=opportunity_id)
    with _stale_guard(request, opportunity_id):
        opportunity_close(actor=request.auth, opportunity=deal, outcome=payload.outcome, reason=payload.reason,
                          expected_version=if_match(request))
    return opportunity_get(user=request.auth, opportunity_id=opportunity_id)
