"""`notify()`: the one way to tell a person something. The notice is stored (inbox and sync
read it), pushed to the person's websocket group after commit, and texted when they have no
live app connection or the kind needs a text whatever happens."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from backend.core.errors import NotFound
from backend.core.groups import send_to_groups
from backend.core.sync import stamp_for
from backend.notifications import presence
from backend.notifications.models import Notification
from backend.org.scoping import scope


def user_group(user_id: int) -> str:
    """The channel-layer group of one person's open sockets."""
    return f"user.{user_id}"


def device_group(device_id: int) -> str:
    """The channel-layer group of one signed-in device's open sockets (closed when it is revoked)."""
    return f"device.{device_id}"


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
    transaction.on_commit(lambda: push(notification), robust=True)  # a push is a hint: never fails the change
    if _should_text(recipient, sms):
        _text(recipient, notification)
    return notification


def push(notification: Notification) -> None:
    """Best effort: the channel layer may drop it; the inbox and sync have the notice anyway."""
    message = {"type": "event.push", "event": event_payload(notification)}
    send_to_groups([(user_group(notification.recipient_id), message)])


def _should_text(recipient: Any, sms: bool | None) -> bool:
    if not getattr(recipient, "phone", None) or sms is False:
        return False
    return sms is True or not presence.is_online(recipient.pk)


def _text(recipient: Any, notification: Notification) -> None:
    send_text(to=recipient.phone, body=notification.text, user=recipient, kind=notification.kind, related=notification)


def send_text(*, to: str, body: str, kind: str, user: Any = None, related: Any = None) -> None:
    """Text someone now (stored with the current transaction, sent after commit), without an
    inbox entry: for notices and for what must not be kept in an inbox, like sign-in codes."""
    # The one narrow way from the domain to the SMS door: the outbound queue.
    from sms_gateway.outbound import queue_sms

    queue_sms(to=to, body=body, user=user, kind=kind, related=related)


def close_device_sockets(device_id: int) -> None:
    """After commit: every open socket of a revoked device is closed."""
    send_to_groups([(device_group(device_id), {"type": "device.revoked"})])


def notification_list(*, user: Any, recipient: Any = None) -> QuerySet[Notification]:
    """An inbox, newest first: the caller's own, or (for a manager) a team member's."""
    return scope(Notification.objects.filter(recipient=recipient or user), user).order_by("-created_at", "-id")


def notification_get(*, user: Any, notification_id: Any) -> Notification:
    notice = scope(Notification.objects.filter(pk=notification_id), user).first()
    if notice is None:
        raise NotFound(_("Notification not found."), code="not_found")
    return notice


def notifications_mark_read(*, user: Any, ids: list[Any] | None = None) -> int:
    """Mark the caller's own notices read (every unread one when `ids` is None); returns how many."""
    notices = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        notices = notices.filter(pk__in=ids)
    now = timezone.now()
    # One statement; the sync stamp moves with it so the person's other devices pull the change.
    return notices.update(read_at=now, updated_at=now, sync_stamp=stamp_for(notices.db))
