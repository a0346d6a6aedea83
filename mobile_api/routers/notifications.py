from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from backend.core.errors import Forbidden, NotFound
from backend.notifications.services import notification_get, notification_list, notifications_mark_read
from backend.org.scoping import visible_users
from mobile_api.auth import device_auth
from mobile_api.idempotency import IDEMPOTENT
from mobile_api.pagination import keyset_page
from mobile_api.schemas.common import ERRORS, page_of
from mobile_api.schemas.notifications import MarkReadIn, MarkReadOut, NotificationOut

router = Router(tags=["notifications"], auth=device_auth)
NotificationPage = page_of(NotificationOut)


@router.get("", response={200: NotificationPage, **ERRORS}, summary="My inbox")
def inbox(request: HttpRequest, unread: bool = False, user_id: int | None = None, cursor: str | None = None,
          limit: int = 50) -> object:
    """Everything pushed over the websocket is here too: a reconnecting client catches up here.
    A manager may read a team member's inbox with `user_id`."""
    recipient = None
    if user_id is not None:
        recipient = visible_users(request.auth).filter(pk=user_id).first()
        if recipient is None:
            raise NotFound(_("Person not found."), code="not_found")
    notices = notification_list(user=request.auth, recipient=recipient)
    if unread:
        notices = notices.filter(read_at__isnull=True)
    return keyset_page(notices, order=("-created_at", "-id"), cursor=cursor, limit=limit)


@router.post("/read", response={200: MarkReadOut, **ERRORS}, summary="Mark notices read",
             openapi_extra=IDEMPOTENT)
def mark_read(request: HttpRequest, payload: MarkReadIn) -> dict:
    """The given ones, or every unread one when `ids` is left out."""
    return {"marked": notifications_mark_read(user=request.auth, ids=payload.ids)}


@router.get("/{notification_id}", response={200: NotificationOut, **ERRORS}, summary="One notice")
def detail(request: HttpRequest, notification_id: UUID) -> object:
    return notification_get(user=request.auth, notification_id=notification_id)


@router.post("/{notification_id}/read", response={200: NotificationOut, **ERRORS}, summary="Mark one notice read",
             openapi_extra=IDEMPOTENT)
def mark_one_read(request: HttpRequest, notification_id: UUID) -> object:
    notice = notification_get(user=request.auth, notification_id=notification_id)
    if notice.recipient_id != request.auth.pk:
        raise Forbidden(_("Only the recipient marks a notice read."), code="forbidden")
    notifications_mark_read(user=request.auth, ids=[notice.pk])
    return notification_get(user=request.auth, notification_id=notification_id)
