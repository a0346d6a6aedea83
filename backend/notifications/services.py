"""`notify()`: the one way to tell a person something. The notice is stored (inbox and sync
read it), pushed to the person's websocket group after commit, and texted when they have no
live app connection or the kind needs a text whatever happens."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import translation

from backend.notifications import presence
from backend.notifications.models import Notification


def user_group(user_id: int) -> str:
    """The channel-layer group of one person's open sockets."""
    return f"user.{user_id}"


@contextmanager
def in_language_of(user: Any) -> Iterator[None]:
    """Render text for `user` in their preferred language."""
    with translation.override(getattr(user, "preferred_language", None) or "en"):
        yield


def event_payload(notification: Notification) -> dict:
    """The websocket event of API.md: {"type", "id", "created", "data"}."""
    return {
        "type": notification.kind,
        "id": str(notification.pk),
        "created": notification.created_at.isoformat(),
        "data": {"text": notification.text, **notification.data},
    }


def notify(*, recipient: Any, kind: str, text: str, data: dict | None = None, sms: bool | None = None) -> Notification:
    """Store, push after commit, and text when needed.

    `sms=True` texts whatever happens (a shipment notice), `sms=False` never, `None` only when
    the recipient has no live app connection.
    """
    notification = Notification.objects.create(recipient=recipient, kind=kind, text=text, data=data or {})
    transaction.on_commit(lambda: push(notification))
    if _should_text(recipient, sms):
        _text(recipient, notification)
    return notification


def push(notification: Notification) -> None:
    """Best effort: the channel layer may drop it; the inbox and sync have the notice anyway."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "event.push", "event": event_payload(notification)}
    async_to_sync(layer.group_send)(user_group(notification.recipient_id), message)


def _should_text(recipient: Any, sms: bool | None) -> bool:
    if not getattr(recipient, "phone", None) or sms is False:
        return False
    return sms is True or not presence.is_online(recipient.pk)


def _text(recipient: Any, notification: Notification) -> None:
    # The one narrow way from the domain to the SMS door: the outbound queue.
    from sms_gateway.outbound import queue_sms

    queue_sms(to=recipient.phone, body=notification.text, user=recipient, kind=notification.kind, related=notification)
