"""`notify()`: the one way to tell a person something. The notice is stored (inbox and sync
read it), pushed to the person's websocket group after commit, and texted when they have no
live app connection or the kind needs a text whatever happens."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Notice:
    """One notice for `notify_many`: what `notify` takes."""

    recipient: Any
    kind: str
    text: str
    data: dict | None = None
    sms: bool | None = None


def notify(*, recipient: Any, kind: str, text: str, data: dict | None = None, sms: bool | None = None) -> Notification:
    """Store, push after commit, and text when needed.

    `sms=True` texts whatever happens (a shipment notice), `sms=False` never, `None` only when
    the recipient has no live app connection.
    """
    return notify_many([Notice(recipient, kind, text, data, sms)])[0]


def notify_many(notices: Sequence[Notice]) -> list[Notification]:
    """`notify` for several notices at once: one insert, one push, one batch of texts."""
    notifications = Notification.objects.bulk_create([
        Notification(recipient=notice.recipient, kind=notice.kind, text=notice.text, data=notice.data or {})
        for notice in notices
    ])
    transaction.on_commit(lambda: push(notifications), robust=True)  # a push is a hint: never fails the change
    texts = [(notice.recipient, notification) for notice, notification in zip(notices, notifications, strict=True)
             if _should_text(notice.recipient, notice.sms)]
    if texts:
        send_texts([
            {"to": recipient.phone, "body": notification.text, "kind": notification.kind, "user": recipient,
             "related": notification}
            for recipient, notification in texts
        ])
    return notifications


def push(notifications: Sequence[Notification]) -> None:
    """Best effort: the channel layer may drop them; the inbox and sync have the notices anyway."""
    send_to_groups(
        (user_group(notification.recipient_id), {"type": "event.push", "event": event_payload(notification)})
        for notification in notifications
    )


def _should_text(recipient: Any, sms: bool | None) -> bool:
    if not getattr(recipient, "phone", None) or sms is False:
        return False
    return sms is True or not presence.is_online(recipient.pk)


def send_text(*, to: str, body: str, kind: str, user: Any = None, related: Any = None) -> None:
    """Text someone now (stored with the current transaction, sent after commit), without an
    inbox entry: for notices and for what must not be kept in an inbox, like sign-in codes."""
    send_texts([{"to": to, "body": body, "kind": kind, "user": user, "related": related}])


def send_texts(texts: Sequence[dict[str, Any]]) -> None:
    """`send_text` for several texts, each given as `send_text`'s arguments."""
    # The one narrow way from the domain to the SMS door: the outbound queue.
    from sms_gateway.outbound import Outgoing, queue_many

    queue_many([Outgoing(**text) for text in texts])


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
