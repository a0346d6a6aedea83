"""The inbound pipeline, the same for the webhook, the sweeper and `manage.py sms`:
store first, then read, authenticate, dispatch and reply.

The message row is committed on its own before anything else, so a crash in a handler leaves
it `failed` with its error, to be run again by `sms_reprocess`. A retried webhook (same
MessageSid) finds the row and gets the stored reply; it never creates anything twice.
"""

import logging
import traceback
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.context import Door, acting
from backend.core.errors import ApplicationError
from backend.core.phones import to_e164
from backend.org.models import User
from sms_gateway import outbound, segments
from sms_gateway.commands import HANDLERS, NUMBER_HANDLERS, Outcome
from sms_gateway.language import Command, ParseError, Stop, error_text, parse
from sms_gateway.models import InboundMessage, InboundStatus
from sms_gateway.optouts import optout_set

logger = logging.getLogger(__name__)

# A phone in a loop, or a runaway script, is cut off: one warning, then its texts are only kept.
RATE_LIMIT = 20
RATE_WINDOW = timedelta(seconds=60)
RATE_LIMITED = "rate_limited"
BILINGUAL = ("en", "zh-hans")


def receive_and_process(*, provider: str, provider_id: str, sender: str, to: str, body: str) -> str | None:
    """The reply to answer inline, or None for an empty answer."""
    message, created = receive(provider=provider, provider_id=provider_id, sender=sender, to=to, body=body)
    if not created:
        return message.reply or None  # a replay: the same answer, nothing new
    return process(message.pk, inline=True)


def receive(*, provider: str, provider_id: str, sender: str, to: str, body: str) -> tuple[InboundMessage, bool]:
    """Store the text, committed on its own. A concurrent duplicate loses on the unique id.
    NUL characters are dropped: PostgreSQL cannot store them, and a text must never be lost to one."""
    sender, to, body = (value.replace("\x00", "") for value in (sender, to, body))
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                provider=provider, provider_id=provider_id, sender=to_e164(sender) or sender[:32], to=to[:32],
                body=body,
            )
        return message, True
    except IntegrityError:
        return InboundMessage.objects.get(provider_id=provider_id), False


def process(message_id: int, *, inline: bool) -> str | None:
    """Handle a stored text (new, stale or failed) and reply: inline, or through the queue."""
    try:
        with transaction.atomic():
            message = InboundMessage.objects.select_for_update().get(pk=message_id)
            if message.status not in (InboundStatus.RECEIVED, InboundStatus.FAILED):
                return message.reply or None  # someone else finished it
            outcome = _handle(message)
            _finish(message, outcome, inline=inline)
    except Exception:
        logger.exception("SMS %s could not be processed", message_id)
        return _fail(message_id, traceback.format_exc(limit=8), inline=inline)
    return outcome.reply or None


def _handle(message: InboundMessage) -> Outcome:
    command = parse(message.body, today=timezone.localdate())
    user = message.user = _sender(message)
    # STOP and START are recorded for any number, so their history says `sms` too.
    with acting(user=user, door=Door.SMS):
        if _rate_limited(message):
            if isinstance(command, Stop):
                optout_set(phone=message.sender, active=True, source="keyword")
            return _rate_limit_outcome(message)
        if type(command) in NUMBER_HANDLERS:
            with translation.override(command.lang or _language_of(user)):
                return NUMBER_HANDLERS[type(command)](command, message.sender)
        if user is None:
            return Outcome(reply=_bilingual(_not_registered), status=InboundStatus.REJECTED, error="unknown_sender")
        with translation.override(command.lang or user.preferred_language):
            if isinstance(command, ParseError):
                return Outcome(reply=error_text(command), status=InboundStatus.REJECTED, error=command.code)
            return _dispatch(command, user)


def _dispatch(command: Command, user: User) -> Outcome:
    try:
        with transaction.atomic():  # a refusal undoes whatever the handler wrote
            return HANDLERS[type(command)](command, user)
    except ApplicationError as error:
        return Outcome(reply=_refusal_text(error), status=InboundStatus.REJECTED, error=error.code)


def _refusal_text(error: ApplicationError) -> str:
    """The domain's own message, with what helps the sender fix the text."""
    text = str(error.message)
    suggestions = error.extra.get("suggestions") if error.code == "unknown_product" else None
    if suggestions:
        text += " " + _("Did you mean %(codes)s?") % {"codes": ", ".join(suggestions)}
    return text


def _sender(message: InboundMessage) -> User | None:
    return User.objects.filter(phone=message.sender, is_active=True).first()


def _language_of(user: User | None) -> str:
    return user.preferred_language if user is not None else "en"


def _not_registered() -> str:
    return _("This number is not registered with Fieldline.")


def _rate_limit_warning() -> str:
    return _("Too many texts from this number: the next ones are kept but not answered for a minute.")


def _could_not_process() -> str:
    return _("Sorry, your text could not be processed now. It is kept and will be handled.")


def _bilingual(text: Any) -> str:
    """For a sender whose language is unknown: English and Chinese, short."""
    parts = []
    for language in BILINGUAL:
        with translation.override(language):
            parts.append(text())
    return " ".join(dict.fromkeys(parts))


def _in_language_of(message: InboundMessage, text: Any) -> str:
    user = message.user or _sender(message)
    if user is None:
        return _bilingual(text)
    with translation.override(user.preferred_language):
        return text()


def _rate_limited(message: InboundMessage) -> bool:
    recent = InboundMessage.objects.filter(
        sender=message.sender, received_at__gt=message.received_at - RATE_WINDOW, received_at__lte=message.received_at
    ).exclude(pk=message.pk)
    return recent.count() >= RATE_LIMIT


def _rate_limit_outcome(message: InboundMessage) -> Outcome:
    warned = InboundMessage.objects.filter(
        sender=message.sender, received_at__gt=message.received_at - RATE_WINDOW, error=RATE_LIMITED
    ).exclude(pk=message.pk).exists()
    reply = "" if warned else _in_language_of(message, _rate_limit_warning)
    return Outcome(reply=reply, status=InboundStatus.REJECTED, error=RATE_LIMITED)


def _finish(message: InboundMessage, outcome: Outcome, *, inline: bool) -> None:
    message.status, message.error = outcome.status, outcome.error
    message.reply = segments.fit(outcome.reply, outbound.REPLY_SEGMENTS) if outcome.reply else ""
    message.reference = outcome.reference
    if outcome.created is not None:
        # Through the generic relation, so the reply's `related` is this object, not a query for it.
        message.created_object = outcome.created
    message.processed_at = timezone.now()
    message.attempts += 1
    message.save()
    _reply(message, inline=inline)


def _reply(message: InboundMessage, *, inline: bool) -> None:
    if not message.reply:
        return
    if inline:
        outbound.record_inline_reply(inbound=message, body=message.reply)
    else:
        outbound.queue_sms(to=message.sender, body=message.reply, user=message.user, kind="reply",
                           related=message.created_object, is_reply=True, in_reply_to=message)


def _fail(message_id: int, error: str, *, inline: bool) -> str | None:
    """Keep the message `failed` with its error; the sender is told it is kept."""
    with transaction.atomic():
        message = InboundMessage.objects.select_for_update().get(pk=message_id)
        if message.status not in (InboundStatus.RECEIVED, InboundStatus.FAILED):
            return message.reply or None
        first_failure = message.status == InboundStatus.RECEIVED
        message.status, message.error = InboundStatus.FAILED, error
        message.attempts += 1
        message.processed_at = timezone.now()
        if first_failure:  # a reprocess that fails again does not text the apology twice
            message.reply = segments.fit(_in_language_of(message, _could_not_process), outbound.REPLY_SEGMENTS)
        message.save()
        if first_failure:
            _reply(message, inline=inline)
    return message.reply or None
