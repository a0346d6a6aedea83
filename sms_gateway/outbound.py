"""The outbound queue. A text is stored in the transaction of the change that caused it and
handed to the worker after commit; the worker claims the row before sending, so a re-queued or
redelivered task never texts twice, and retries transient failures with exponential backoff."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from backend.core.logging import RedactSecretsFilter
from backend.core.metrics import SMS_OUTBOUND, count_status, count_written
from backend.core.phones import to_e164
from backend.core.queries import Copied, PerRow, insert_copies, update_row
from sms_gateway import segments
from sms_gateway.models import InboundMessage, OutboundMessage, OutboundStatus
from sms_gateway.optouts import not_opted_out_sql, opted_out, opted_out_to, optout_set
from sms_gateway.providers import get_provider
from sms_gateway.providers.base import UNSUBSCRIBED, PermanentSendError, SendError, TransientSendError

logger = logging.getLogger(__name__)

REPLY_SEGMENTS = 2
# Twilio's advice for a single message; longer notices are cut rather than refused (21617).
MAX_SEGMENTS = 10
# Most texts one send task takes (`hand_over`).
SEND_CHUNK = 10
MAX_ATTEMPTS = 6
SECRET_KINDS = frozenset({"otp"})
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600

# Twilio's statuses in the order a message goes through them: a late callback never moves back.
PROVIDER_RANK = {
    "accepted": 1, "scheduled": 1, "queued": 1, "sending": 2, "sent": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "read": 5,
}
PROVIDER_STATUS = {
    "delivered": OutboundStatus.DELIVERED, "read": OutboundStatus.DELIVERED,
    "undelivered": OutboundStatus.UNDELIVERED, "failed": OutboundStatus.FAILED, "canceled": OutboundStatus.FAILED,
}


@dataclass(frozen=True)
class Outgoing:
    """One text for `queue_many`: what `queue_sms` takes."""

    to: str
    body: str
    kind: str
    user: Any = None
    related: Model | None = None
    is_reply: bool = False
    in_reply_to: InboundMessage | None = None


def _row(text: Outgoing, *, status: str) -> OutboundMessage:
    body = segments.fit(text.body, REPLY_SEGMENTS if text.is_reply else MAX_SEGMENTS)
    return OutboundMessage(
        to=text.to, body=body, user=text.user, kind=text.kind, is_reply=text.is_reply,
        in_reply_to=text.in_reply_to,
        related_type=ContentType.objects.get_for_model(text.related) if text.related is not None else None,
        related_id=str(text.related.pk) if text.related is not None else "",
        status=status, segments=segments.count(body).segments,
    )


def _insert(rows: list[OutboundMessage]) -> list[OutboundMessage]:
    rows = OutboundMessage.objects.bulk_create(rows)
    count_written(rows)
    return rows


def queue_sms(
    *, to: str, body: str, user: Any = None, kind: str, related: Model | None = None, is_reply: bool = False,
    in_reply_to: InboundMessage | None = None,
) -> OutboundMessage:
    """Store a text in the current transaction and send it after commit. A number that texted
    STOP gets the row with status `suppressed` (kept, not sent), unless this is a reply."""
    return queue_many([Outgoing(to, body, kind, user, related, is_reply, in_reply_to)])[0]


def queue_many(texts: Sequence[Outgoing]) -> list[OutboundMessage]:
    """`queue_sms` for several texts: one look at the opt-outs, one insert."""
    texts = [replace(text, to=to_e164(text.to) or text.to) for text in texts]
    stopped = opted_out(text.to for text in texts if not text.is_reply)
    suppressed, queued = OutboundStatus.SUPPRESSED, OutboundStatus.QUEUED
    rows = _insert([_row(text, status=suppressed if not text.is_reply and text.to in stopped else queued)
                    for text in texts])
    hand_over([row.pk for row in rows if row.status == OutboundStatus.QUEUED])
    return rows


def hand_over(message_ids: Sequence[int]) -> None:
    """Send after commit. If the process dies in between, the sweeper finds the rows queued."""
    message_ids = list(message_ids)

    def publish() -> None:  # a function of its own: robust on_commit logs a failure by its name
        send_soon(message_ids)

    # Robust: with the broker down the change still stands and the sweeper sends the texts later.
    if message_ids:
        transaction.on_commit(publish, robust=True)


def send_soon(message_ids: Sequence[int]) -> None:
    """Give the texts to the worker now, up to `SEND_CHUNK` a task: a task costs the web and the
    worker more than a send does, and chunks still spread over the worker's processes."""
    from sms_gateway.tasks import send_outbound_many  # the task module imports this one

    for start in range(0, len(message_ids), SEND_CHUNK):
        send_outbound_many.delay(list(message_ids[start:start + SEND_CHUNK]))


def record_inline_replies(inbound: list[InboundMessage]) -> list[int]:
    """Replies that went back inside the webhook's answer, kept like every other text: what
    `reply_to` says, copied by the database from the finished (saved) inbound rows."""
    column = {name: Copied(InboundMessage._meta.get_field(name).column)
              for name in ("sender", "reply", "user", "id", "created_type", "created_id")}
    ids = insert_copies(OutboundMessage, InboundMessage, [message.pk for message in inbound], {
        "to": column["sender"], "body": column["reply"], "user": column["user"], "kind": "reply", "is_reply": True,
        "in_reply_to": column["id"], "related_type": column["created_type"], "related_id": column["created_id"],
        "status": OutboundStatus.SENT_INLINE, "segments": PerRow([segments.count(message.reply).segments
                                                                  for message in inbound]),
    })
    # No signal counts rows the database wrote; they come back in the order of the texts' keys.
    for message, message_id in zip(sorted(inbound, key=lambda message: message.pk), ids, strict=True):
        count_status(SMS_OUTBOUND, OutboundMessage._meta.label, message_id, OutboundStatus.SENT_INLINE, about=message)
    return ids


def reply_to(message: InboundMessage) -> Outgoing:
    """The reply to an inbound text, about what it created."""
    return Outgoing(message.sender, message.reply, "reply", message.user, message.created_object, is_reply=True,
                    in_reply_to=message)


@dataclass(frozen=True)
class RetryLater:
    countdown: float


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """30 s, 60 s, 120 s … capped at an hour; never sooner than the provider's Retry-After."""
    delay = min(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), BACKOFF_CAP_SECONDS)
    return max(delay, retry_after or 0)


def read_queued(message_ids: Sequence[int]) -> dict[int, OutboundMessage]:
    """The rows among `message_ids` still queued, read in one query for `deliver`."""
    return _with_opt_out().filter(status=OutboundStatus.QUEUED).in_bulk(message_ids)


def deliver(message_id: int, *, read: OutboundMessage | None = None) -> RetryLater | None:
    """Send one queued row once. Returns when to try again after a transient failure.

    `read`: the row as `read_queued` read it with the rest of its task, which saves reading it
    again. It serves only if the claim finds it as it was read, and its number (unless it is a
    reply) still not opted out: sends before it in the task take time, and a STOP or another
    worker's attempt may have come in meanwhile. Otherwise the row is read again here."""
    now = timezone.now()
    message = read
    if message is not None and _claim(message, now, unless_opted_out=not message.is_reply):
        message.opted_out = False
    else:
        message = read_queued([message_id]).get(message_id)
        # None: sent, being sent, suppressed or failed; a failed claim: another attempt came first.
        if message is None or not _claim(message, now):
            return None  # never twice
    message.status, message.attempts, message.sending_since = OutboundStatus.SENDING, message.attempts + 1, now
    count_status(SMS_OUTBOUND, OutboundMessage._meta.label, message_id, OutboundStatus.SENDING)
    if not message.is_reply and message.opted_out:
        _set(message, status=OutboundStatus.SUPPRESSED)
        return None
    provider = get_provider()
    try:
        sent = provider.send(to=message.to, body=message.body, status_callback=_status_callback(provider, message))
    except TransientSendError as error:
        return _retry_later(message, error)
    except PermanentSendError as error:
        _fail(message, error)
        if error.code == UNSUBSCRIBED:
            optout_set(phone=message.to, active=True, source=f"twilio {UNSUBSCRIBED}")
        return None
    _set(
        message, status=OutboundStatus.SENT, provider=provider.name, provider_sid=sent.sid,
        provider_status=sent.status, sent_at=timezone.now(), error="", error_code="", **_without_secret(message),
    )
    return None


def _with_opt_out() -> QuerySet[OutboundMessage]:
    """Texts, each with whether its number texted STOP (`opted_out`)."""
    return OutboundMessage.objects.annotate(opted_out=opted_out_to())


def _claim(read: OutboundMessage, now: datetime, *, unless_opted_out: bool = False) -> bool:
    """Mark the row `sending` if it is still queued as it was `read` (no attempt made since) and,
    `unless_opted_out`, its number has not texted STOP: whoever does so sends it."""
    sending = {"status": OutboundStatus.SENDING, "sending_since": now, "status_changed_at": now}
    return bool(update_row(
        OutboundMessage, read.pk, {**sending, "attempts": read.attempts + 1},
        where={"status": OutboundStatus.QUEUED, "attempts": read.attempts},
        condition=not_opted_out_sql() if unless_opted_out else "",
    ))


def _status_callback(provider: Any, message: OutboundMessage) -> str | None:
    """The provider's report URL naming this row: a report then finds the text even when the send's
    answer was lost (a timeout, a worker killed mid-send), and no retry or sweep sends it again."""
    url = provider.status_callback()
    return f"{url}?{urlencode({'ref': message.pk})}" if url else None


def _set(message: OutboundMessage, **fields: Any) -> None:
    updated = update_row(
        OutboundMessage, message.pk, {"status_changed_at": timezone.now(), **fields},
        where={"status": OutboundStatus.SENDING},
    )
    if updated and "status" in fields:  # update_row sends no signal: counted here for /metrics
        count_status(SMS_OUTBOUND, OutboundMessage._meta.label, message.pk, fields["status"])


def _fail(message: OutboundMessage, error: SendError) -> None:
    logger.warning("SMS %s to %s failed: %s", message.pk, message.to, error)
    _set(message, status=OutboundStatus.FAILED, error_code=error.code, error=str(error), **_without_secret(message))


def _without_secret(message: OutboundMessage) -> dict:
    """A text that carries a secret (a sign-in code) is kept blanked once its sending is over: the
    database holds codes only as hashes (mobile_api.models.OtpCode)."""
    return {"body": RedactSecretsFilter.redact(message.body)} if message.kind in SECRET_KINDS else {}


def _retry_later(message: OutboundMessage, error: TransientSendError) -> RetryLater | None:
    if message.attempts >= MAX_ATTEMPTS:
        _fail(message, TransientSendError(f"gave up after {message.attempts} attempts: {error}", code=error.code))
        return None
    countdown = backoff_seconds(message.attempts, error.retry_after)
    _set(
        message, status=OutboundStatus.QUEUED, error_code=error.code, error=str(error),
        next_attempt_at=timezone.now() + timedelta(seconds=countdown),
    )
    return RetryLater(countdown)


def status_update(*, sid: str, provider_status: str, error_code: str = "", ref: str = "") -> OutboundMessage | None:
    """A delivery report. Reports arrive late, twice, or out of order: only a later stage counts."""
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().filter(provider_sid=sid).first() or _adopt(sid, ref)
        if message is None:
            return None
        if error_code == UNSUBSCRIBED:
            optout_set(phone=message.to, active=True, source=f"twilio {UNSUBSCRIBED}")
        rank = PROVIDER_RANK.get(provider_status)
        if rank is None or rank <= PROVIDER_RANK.get(message.provider_status, 0):
            return message
        message.provider_status = provider_status
        message.status = PROVIDER_STATUS.get(provider_status, OutboundStatus.SENT)
        message.error_code = error_code or message.error_code
        message.status_changed_at = timezone.now()
        message.save(update_fields=["provider_status", "status", "error_code", "status_changed_at"])
    return message


def _adopt(sid: str, ref: str) -> OutboundMessage | None:
    """The first report of a text the provider took while its send never got the answer: the row
    (named by `ref`, still waiting for a retry or stuck `sending`) takes the provider's id, so it is
    not sent again."""
    if not ref.isdigit():
        return None
    waiting = (OutboundStatus.QUEUED, OutboundStatus.SENDING)
    message = OutboundMessage.objects.select_for_update().filter(
        pk=int(ref), provider_sid__isnull=True, status__in=waiting
    ).first()
    if message is not None:
        message.provider_sid, message.sent_at = sid, timezone.now()
        message.body = _without_secret(message).get("body", message.body)
        message.save(update_fields=["provider_sid", "sent_at", "body"])
    return message
