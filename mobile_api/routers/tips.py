from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from backend.crm.selectors import opportunity_get, tip_get, tip_list
from backend.crm.services import tip_comment, tip_rate, tip_share, tip_tag, tip_use
from mobile_api.auth import device_auth
from mobile_api.idempotency import IDEMPOTENT
from mobile_api.pagination import keyset_page
from mobile_api.schemas.common import ERRORS, page_of
from mobile_api.schemas.tips import CommentIn, CommentOut, RatingIn, TagIn, TipDetailOut, TipIn, TipOut, UseIn

router = Router(tags=["tips"], auth=device_auth)
TipPage = page_of(TipOut)


@router.get("", response={200: TipPage, **ERRORS}, summary="Tips, best first")
def tips(request: HttpRequest, tag: str | None = None, q: str | None = None, cursor: str | None = None,
         limit: int = 50) -> object:
    """Ranked by their ratings and by how the deals that used them ended."""
    return keyset_page(tip_list(user=request.auth, tag=tag, q=q), order=("-rank", "-id"), cursor=cursor, limit=limit)


@router.post("", response={201: TipDetailOut, **ERRORS}, summary="Share a tip", openapi_extra=IDEMPOTENT)
def share(request: HttpRequest, payload: TipIn) -> Status:
    tip = tip_share(author=request.auth, **payload.dict())
    return Status(201, tip_get(user=request.auth, tip_id=tip.pk))


@router.get("/{tip_id}", response={200: TipDetailOut, **ERRORS}, summary="One tip with its comments")
def detail(request: HttpRequest, tip_id: UUID) -> object:
    return tip_get(user=request.auth, tip_id=tip_id)


@router.post("/{tip_id}/tags", response={200: TipDetailOut, **ERRORS}, summary="Tag a tip", openapi_extra=IDEMPOTENT)
def tag(request: HttpRequest, tip_id: UUID, payload: TagIn) -> object:
    tip_tag(user=request.auth, tip=tip_get(user=request.auth, tip_id=tip_id), tags=payload.tags)
    return tip_get(user=request.auth, tip_id=tip_id)


@router.post("/{tip_id}/rating", response={200: TipDetailOut, **ERRORS}, summary="Rate a tip (1 to 5 stars)",
             openapi_extra=IDEMPOTENT)
def rate(request: HttpRequest, tip_id: UUID, payload: RatingIn) -> object:
    """Once per person (rating again changes it); not your own tips."""
    tip_rate(user=request.auth, tip=tip_get(user=request.auth, tip_id=tip_id), stars=payload.stars)
    return tip_get(user=request.auth, tip_id=tip_id)


@router.post("/{tip_id}/comments", response={201: CommentOut, **ERRORS}, summary="Comment on a tip",
             openapi_extra=IDEMPOTENT)
def comment(request: HttpRequest, tip_id: UUID, payload: CommentIn) -> Status:
    tip = tip_get(user=request.auth, tip_id=tip_id)
    return Status(201, tip_comment(user=request.auth, tip=tip, body=payload.body, id=payload.id))


@router.post("/{tip_id}/uses", response={200: TipDetailOut, **ERRORS}, summary="I used this tip on a deal",
             openapi_extra=IDEMPOTENT)
def use(request: HttpRequest, tip_id: UUID, payload: UseIn) -> object:
    """How that deal ends will rank the tip."""
    deal = opportunity_get(user=request.auth, opportunity_id=payload.opportunity_id)
    tip_use(user=request.auth, tip=tip_get(user=request.auth, tip_id=tip_id), opportunity=deal)
    return tip_get(user=request.auth, tip_id=tip_id)
