"""Texts that arrive together are handled together.

Each web process runs one batch thread. A webhook hands its text over and waits; the thread
takes the texts waiting, up to `SMS_INBOUND_BATCH` (under load it waits a little for the senders
it just answered), stores them in one insert (committed: from then on none can be lost)
and runs them through the pipeline in one go, so thirty texts cost a handful of statements
rather than thirty times a dozen. A text alone is a batch of one. No webhook answers before its
text is stored.

Each webhook's text logs under that webhook's request id; what the batch does for several texts at
once (their notices, sent by the worker) under an id of the batch's own, whose "Texts handled
together" line names the webhooks' ids and their texts (`backend.core.logging.request_ids_by`).

A webhook whose text no batch has taken after `SMS_INBOUND_WAIT_SECONDS` stores it itself, hands
it to the worker and answers empty: its reply goes out through the outbound queue. With
`SMS_INBOUND_BATCH` at 1 there is no thread: each request handles its own text, as the tests and
`manage.py sms` do.
"""

import logging
import queue
import threading
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections

from backend.core.logging import current_request_id, new_request_id, request_id_set, request_ids_by
from sms_gateway.inbound import Text, answers, receive_and_process, receive_for_later, receive_many
from sms_gateway.models import InboundMessage

logger = logging.getLogger(__name__)


class _Waiting:
    """One text waiting for its batch: claimed by the thread, or given up by the webhook."""

    def __init__(self, text: Text):
        self.text = text
        self.request_id = current_request_id()  # the webhook's, taken in its own thread
        self.done = threading.Event()
        self.reply: str | None = None
        self.error: BaseException | None = None
        self._state = "waiting"
        self._lock = threading.Lock()

    def claim(self) -> bool:
        return self._move("claimed")

    def give_up(self) -> bool:
        return self._move("given_up")

    def _move(self, state: str) -> bool:
        with self._lock:
            if self._state != "waiting":
                return False
            self._state = state
            return True

    def settle(self, reply: str | None = None, error: BaseException | None = None) -> None:
        self.reply, self.error = reply, error
        self.done.set()


class Batcher:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Waiting] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def process(self, text: Text) -> str | None:
        """The inline reply to a text, handled with whatever arrived with it."""
        if settings.SMS_INBOUND_BATCH <= 1:
            return receive_and_process(text)
        self._start()
        waiting = _Waiting(text)
        self._queue.put(waiting)
        if not waiting.done.wait(settings.SMS_INBOUND_WAIT_SECONDS) and waiting.give_up():
            message = receive_for_later(text)
            logger.warning("SMS %s waited too long for its batch; its reply goes through the queue", message.pk)
            return None
        waiting.done.wait()
        if waiting.error is not None:
            raise waiting.error
        return waiting.reply

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sms-batch", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        answered = 0
        while True:
            # The senders just answered, and those whose texts came in meanwhile.
            batch = self._gather(expected=answered + self._queue.qsize())
            answered = len(batch)
            self._handle(batch)

    def _gather(self, *, expected: int) -> list[_Waiting]:
        """The first text waiting, then up to `SMS_INBOUND_LINGER_SECONDS` for `expected` texts in
        all, then whatever else is already there.

        A batch costs a dozen statements whatever its size, so under load bigger batches cost
        less per text. Under a steady load the senders of the last batch text again, and so do
        those who texted while it ran. Without the wait, a batch starts with the few texts that
        came in while the last one ran; the rest, still on their way, make another batch behind
        it, and the two halves go on taking turns, each paying for a whole batch. Under light
        load a text is alone and waits for nothing."""
        batch = [self._queue.get()]
        deadline = time.monotonic() + settings.SMS_INBOUND_LINGER_SECONDS
        limit = settings.SMS_INBOUND_BATCH
        while len(batch) < min(expected, limit):
            try:
                batch.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0)))
            except queue.Empty:
                break
        while len(batch) < limit:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _handle(self, batch: list[_Waiting]) -> None:
        close_old_connections()  # what a request does on starting and finishing: a dead connection is dropped
        try:
            self._handle_claimed(batch)
        finally:
            close_old_connections()

    def _handle_claimed(self, batch: list[_Waiting]) -> None:
        """Store the texts whose webhooks still wait, handle the new ones, and answer each webhook."""
        claimed = [waiting for waiting in batch if waiting.claim()]
        if not claimed:
            return
        request_id_by_sid: dict[str, str] = {}
        for waiting in claimed:  # a MessageSid twice: the first webhook's text is the one stored
            request_id_by_sid.setdefault(waiting.text.provider_id, waiting.request_id)
        with request_id_set(new_request_id()), request_ids_by(lambda obj: _request_id_of_text(obj, request_id_by_sid)):
            self._answer(claimed)

    def _answer(self, claimed: list[_Waiting]) -> None:
        try:
            stored = self._store(claimed)
            logger.info("Texts handled together: %s", len(stored), extra={
                "requests": {waiting.request_id: message.pk for waiting, message, _ in stored},
            })
            replies = answers([(message, created) for _, message, created in stored])
        except Exception as error:  # the database is away: each webhook answers as it would alone
            logger.exception("A batch of %s texts could not be handled", len(claimed), extra={
                "requests": {waiting.request_id: waiting.text.provider_id for waiting in claimed},
            })
            for waiting in claimed:
                waiting.settle(error=error)
            return
        for (waiting, _, _), reply in zip(stored, replies, strict=True):
            waiting.settle(reply=reply)

    def _store(self, claimed: list[_Waiting]) -> list[tuple[_Waiting, InboundMessage, bool]]:
        """Store the texts in one insert. When the database refuses it (a text stored before, or
        one it cannot hold), each alone: a text it refuses fails its own webhook and no other."""
        try:
            stored = receive_many([waiting.text for waiting in claimed])
            return [(waiting, *row) for waiting, row in zip(claimed, stored, strict=True)]
        except DatabaseError:
            if len(claimed) == 1:
                raise
        kept = []
        for waiting in claimed:
            try:
                [(message, created)] = receive_many([waiting.text])
            except DatabaseError as error:
                logger.exception("SMS %s could not be stored", waiting.text.provider_id,
                                 extra={"request_id": waiting.request_id})
                waiting.settle(error=error)
                continue
            kept.append((waiting, message, created))
        return kept


def _request_id_of_text(obj: Any, request_id_by_sid: dict[str, str]) -> str | None:
    """The request id of the webhook that brought `obj`, if it is one of the batch's texts."""
    return request_id_by_sid.get(obj.provider_id) if isinstance(obj, InboundMessage) else None


batcher = Batcher()
