"""The inbound pipeline, the same for the webhook, the sweeper and `manage.py sms`: store first,
then read, authenticate, dispatch and reply — one text, or a batch of texts that arrived
together (`sms_gateway.batching` gathers the webhook's).

Texts are stored and committed before anything else, so a crash in a handler leaves them
`failed` with the error, to be run again by `sms_reprocess`. A retried webhook (same MessageSid)
finds the row and gets the stored reply; it never creates anything twice. A batch is handled in
one transaction; when anything in it fails, its texts are handled again one at a time, so one
bad text never costs the others theirs.
"""

import logging
import traceback
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.context import Door, acting
from backend.core.errors import ApplicationError
from backend.core.metrics import count_written
from backend.core.phones import to_e164
from backend.core.queries import save_fields_each
from backend.org.models import User
from sms_gateway import outbound, segments
from sms_gateway.commands import BATCH_HANDLERS, HANDLERS, NUMBER_HANDLERS, Outcome, refusal, reply_language
from sms_gateway.language import Command, ParseError, Stop, error_text, parse
from sms_gateway.models import InboundMessage, InboundStatus
from sms_gateway.optouts import optout_set

logger = logging.getLogger(__name__)

# A phone in a loop, or a runaway script, is cut off: one warning, then its texts are only kept.
RATE_LIMIT = 20
RATE_WINDOW = timedelta(seconds=60)
RATE_LIMITED = "rate_limited"
# Texts counted in one statement: SQLite takes at most 500 terms in a UNION.
RATE_CHUNK = 200
BILINGUAL = ("en", "zh-hans")
OPEN = (InboundStatus.RECEIVED, InboundStatus.FAILED)
FINISHED_FIELDS = ["status", "error", "reply", "reference", "created_type", "created_id", "processed_at",
                   "attempts", "user"]


@dataclass(frozen=True)
class Text:
    """A text as the provider hands it over."""

    provider: str
    provider_id: str
    sender: str
    to: str
    body: str


def receive_and_process(text: Text) -> str | None:
    """Store the text, then handle it here: the reply to answer inline (None for an empty answer).
    A replay (same MessageSid) gets the stored answer and runs nothing again."""
    return answers(receive_many([text]))[0]


def answers(stored: Sequence[tuple[InboundMessage, bool]]) -> list[str | None]:
    """Each stored text's inline reply: the new ones handled together; a replay of a text stored
    before gets its stored answer, one within `stored` the new one."""
    new = {message.pk: message for message, created in stored if created}
    replies = process_many(list(new), inline=True, stored=new)
    return [replies.get(message.pk, message.reply or None) for message, _ in stored]


def receive_for_later(text: Text) -> InboundMessage:
    """Store the text and leave it to the worker, whose reply goes through the queue."""
    from sms_gateway.tasks import process_inbound  # the task module imports this one

    [(message, created)] = receive_many([text])
    if created:
        try:
            process_inbound.delay(message.pk)
        except Exception:  # the broker is away: the sweeper finds the text `received`
            logger.exception("SMS %s could not be handed to the worker", message.pk)
    return message


def receive_many(texts: Sequence[Text]) -> list[tuple[InboundMessage, bool]]:
    """Store the texts in one insert, committed on their own: each row, and whether this call
    created it. A text stored before comes back as its row when it is alone; among several, the
    database's refusal is raised and the caller stores them one at a time (`sms_gateway.batching`).
    NUL characters are dropped: PostgreSQL cannot store them, and a text must never be lost to one."""
    rows: dict[str, InboundMessage] = {}
    for text in texts:
        rows.setdefault(text.provider_id, _row(text))  # the same MessageSid twice in a batch: stored once
    try:
        with transaction.atomic():
            InboundMessage.objects.bulk_create(rows.values())
    except IntegrityError:  # a retry, stored before or concurrently
        if len(rows) > 1:
            raise
        message = InboundMessage.objects.get(provider_id=texts[0].provider_id)
        return [(message, False) for _ in texts]
    count_written(rows.values())
    seen: set[str] = set()
    stored = []
    for text in texts:
        stored.append((rows[text.provider_id], text.provider_id not in seen))
        seen.add(text.provider_id)
    return stored


def _row(text: Text) -> InboundMessage:
    sender, to, body = (value.replace("\x00", "") for value in (text.sender, text.to, text.body))
    return InboundMessage(
        provider=text.provider, provider_id=text.provider_id, sender=to_e164(sender) or sender[:32], to=to[:32],
        body=body,
    )


def process(message_id: int, *, inline: bool) -> str | None:
    """Handle one stored text (new, stale or failed) and reply: inline, or through the queue."""
    return process_many([message_id], inline=inline)[message_id]


def process_many(
    message_ids: Sequence[int], *, inline: bool, stored: dict[int, InboundMessage] | None = None
) -> dict[int, str | None]:
    """Handle stored texts in one transaction; each id's reply. A text someone else finished
    keeps its reply and is not handled again. `stored`: rows the caller has just stored, used as
    they are while the database still has them `received`."""
    if not message_ids:
        return {}
    try:
        with transaction.atomic():
            messages = _locked(message_ids, stored or {})
            open_messages = [message for message in messages if message.status in OPEN]
            outcomes = _handle_many(open_messages)
            _finish_many(open_messages, outcomes, inline=inline)
    except Exception:
        if len(message_ids) > 1:
            logger.warning("A batch of %s texts failed; handling them one at a time", len(message_ids))
            replies: dict[int, str | None] = {}
            for message_id in message_ids:
                replies.update(process_many([message_id], inline=inline))
            return replies
        logger.exception("SMS %s could not be processed", message_ids[0])
        return {message_ids[0]: _fail(message_ids[0], traceback.format_exc(limit=8), inline=inline)}
    return {message.pk: message.reply or None for message in messages}


def _locked(message_ids: Sequence[int], stored: dict[int, InboundMessage]) -> list[InboundMessage]:
    """The texts, locked in id order (so two batches never wait on each other's rows in a circle).
    A text still `received` is as it was stored: the caller's row serves; any other is read."""
    rows = InboundMessage.objects.select_for_update().filter(pk__in=message_ids).order_by("pk")
    if not stored:
        return list(rows)
    statuses = rows.values_list("pk", "status")
    untouched = [stored[pk] for pk, status in statuses if pk in stored and status == InboundStatus.RECEIVED]
    unsure = set(message_ids) - {message.pk for message in untouched}
    read = InboundMessage.objects.filter(pk__in=unsure) if unsure else []
    return sorted([*untouched, *read], key=lambda message: message.pk)


def _handle_many(messages: list[InboundMessage]) -> dict[int, Outcome]:
    today = timezone.localdate()
    commands = {message.pk: parse(message.body, today=today) for message in messages}
    senders = _senders(messages)
    limited = _rate_limited(messages)
    warned: set[str] = set()
    outcomes: dict[int, Outcome] = {}
    for turn in _turns(messages):
        batched: dict[type, list[tuple[InboundMessage, Command]]] = defaultdict(list)
        for message in turn:
            message.user = senders.get(message.sender)
            command = commands[message.pk]
            if message.pk in limited:
                outcomes[message.pk] = _limited_outcome(message, command, warned)
            elif type(command) in BATCH_HANDLERS and message.user is not None:
                batched[type(command)].append((message, command))
            else:
                outcomes[message.pk] = _handle_one(message, command)
        for kind, items in batched.items():
            results = _batch_dispatch(kind, items)
            outcomes.update((message.pk, outcome) for (message, _), outcome in zip(items, results, strict=True))
    return outcomes


def _turns(messages: list[InboundMessage]) -> Iterator[list[InboundMessage]]:
    """The batch in turns where each sender has one text, in the order they came: a sender's
    UNDO sees the SOLD they sent just before it."""
    queues: dict[str, list[InboundMessage]] = defaultdict(list)
    for message in messages:
        queues[message.sender].append(message)
    while queues:
        yield [texts.pop(0) for texts in queues.values()]
        queues = {sender: texts for sender, texts in queues.items() if texts}


def _handle_one(message: InboundMessage, command: Command | ParseError) -> Outcome:
    user = message.user
    # STOP and START are recorded for any number, so their history says `sms` too.
    with acting(user=user, door=Door.SMS):
        if type(command) in NUMBER_HANDLERS:
            with translation.override(reply_language(command, user)):
                return NUMBER_HANDLERS[type(command)](command, message.sender)
        if user is None:
            return Outcome(reply=_bilingual(_not_registered), status=InboundStatus.REJECTED, error="unknown_sender")
        with translation.override(reply_language(command, user)):
            if isinstance(command, ParseError):
                return Outcome(reply=error_text(command), status=InboundStatus.REJECTED, error=command.code)
            return _dispatch(command, user)


def _dispatch(command: Command, user: User) -> Outcome:
    try:
        with transaction.atomic():  # a refusal undoes whatever the handler wrote
            return HANDLERS[type(command)](command, user)
    except ApplicationError as error:
        return refusal(error)


def _batch_dispatch(kind: type, items: list[tuple[InboundMessage, Command]]) -> list[Outcome]:
    """Texts of one command from different senders, in one go; each sender's refusal is theirs."""
    with acting(user=None, door=Door.SMS):
        return BATCH_HANDLERS[kind]([(command, message.user) for message, command in items])


def _senders(messages: list[InboundMessage]) -> dict[str, User]:
    phones = {message.sender for message in messages}
    return {user.phone: user for user in User.objects.filter(phone__in=phones, is_active=True)}


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
    user = message.user or User.objects.filter(phone=message.sender, is_active=True).first()
    if user is None:
        return _bilingual(text)
    with translation.override(user.preferred_language):
        return text()


def _rate_limited(messages: list[InboundMessage]) -> set[int]:
    """Texts whose sender sent RATE_LIMIT others in the minute before them: one statement for up to
    RATE_CHUNK texts. Each text's count is a subquery of its own, so PostgreSQL reads it through the (sender,
    received_at) index whatever plan it keeps: asked for all the batch's senders over one window,
    its prepared plan scanned every text of that minute by time (7 ms at 200 texts a second).
    Written out here: the ORM took 1.7 ms of CPU a batch to build the correlated count."""
    if not messages:
        return set()
    connection = connections[router.db_for_read(InboundMessage)]
    meta, quote = InboundMessage._meta, connection.ops.quote_name
    sender, received_at = (quote(meta.get_field(name).column) for name in ("sender", "received_at"))
    earlier = (
        f"SELECT COUNT(*) FROM {quote(meta.db_table)} WHERE {sender} = %s "  # noqa: S608  (names from the model)
        f"AND {received_at} > %s AND {received_at} <= %s AND {quote(meta.pk.column)} <> %s"
    )
    moment = meta.get_field("received_at")

    def counted(message: InboundMessage) -> list[Any]:  # the parameters of one text's SELECT
        since, until = (moment.get_db_prep_value(at, connection)
                        for at in (message.received_at - RATE_WINDOW, message.received_at))
        return [message.pk, message.sender, since, until, message.pk, RATE_LIMIT]

    limited = set()
    with connection.cursor() as cursor:
        for start in range(0, len(messages), RATE_CHUNK):
            chunk = messages[start:start + RATE_CHUNK]
            cursor.execute(" UNION ALL ".join([f"SELECT %s WHERE ({earlier}) >= %s"] * len(chunk)),
                           [param for message in chunk for param in counted(message)])
            limited.update(int(pk) for (pk,) in cursor.fetchall())
    return limited


def _limited_outcome(message: InboundMessage, command: Command | ParseError, warned: set[str]) -> Outcome:
    """A text over the limit is kept, not handled; a STOP still stops. One warning a minute:
    none when the minute before or this batch (`warned`, its senders warned so far) gave it."""
    if isinstance(command, Stop):
        with acting(user=message.user, door=Door.SMS):
            optout_set(phone=message.sender, active=True, source="keyword")
    already = message.sender in warned or InboundMessage.objects.filter(
        sender=message.sender, received_at__gt=message.received_at - RATE_WINDOW, error=RATE_LIMITED
    ).exclude(pk=message.pk).exists()
    warned.add(message.sender)
    reply = "" if already else _in_language_of(message, _rate_limit_warning)
    return Outcome(reply=reply, status=InboundStatus.REJECTED, error=RATE_LIMITED)


def _finish_many(messages: list[InboundMessage], outcomes: dict[int, Outcome], *, inline: bool) -> None:
    now = timezone.now()
    for message in messages:
        outcome = outcomes[message.pk]
        message.status, message.error = outcome.status, outcome.error
        message.reply = segments.fit(outcome.reply, outbound.REPLY_SEGMENTS) if outcome.reply else ""
        message.reference = outcome.reference
        if outcome.created is not None:
            # Through the generic relation, so the reply's `related` is this object, not a query for it.
            message.created_object = outcome.created
        message.processed_at = now
        message.attempts += 1
    save_fields_each(messages, FINISHED_FIELDS)
    count_written(messages)
    _reply([message for message in messages if message.reply], inline=inline)


def _reply(messages: list[InboundMessage], *, inline: bool) -> None:
    if inline:
        outbound.record_inline_replies(messages)
    else:
        outbound.queue_many([outbound.reply_to(message) for message in messages])


def _fail(message_id: int, error: str, *, inline: bool) -> str | None:
    """Keep the message `failed` with its error; the sender is told it is kept."""
    with transaction.atomic():
        message = InboundMessage.objects.select_for_update().get(pk=message_id)
        if message.status not in OPEN:
            return message.reply or None
        first_failure = message.status == InboundStatus.RECEIVED
        message.status, message.error = InboundStatus.FAILED, error
        message.attempts += 1
        message.processed_at = timezone.now()
        if first_failure:  # a reprocess that fails again does not text the apology twice
            message.reply = segments.fit(_in_language_of(message, _could_not_process), outbound.REPLY_SEGMENTS)
        message.save()
        if first_failure:
            _reply([message], inline=inline)
    return message.reply or None
