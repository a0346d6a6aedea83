"""Messages to websocket groups from synchronous code (after a commit, in a task, in the SMS batch
thread).

`async_to_sync` would start a thread and an event loop for every call, and the Redis channel layer
keeps its connections per loop: each push would open a new Redis connection and say hello. So
each process keeps one event loop in a thread of its own, started on first use (after a fork,
anew), and hands it the messages: the connections live as long as the process, and the caller
does not wait for Redis. A push is a hint (the inbox, the sync and the next refresh have the
same facts), so a failed send is logged, never raised.

The in-memory layer (one process, development and tests) lives in the caller's event loop: its
queues are not safe to touch from another thread, so it is sent to as before, on the spot.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
from collections.abc import Iterable
from concurrent.futures import Future, wait

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

# How long a process that exits waits for the messages still on their way.
_DRAIN_SECONDS = 2.0


def send_to_groups(messages: Iterable[tuple[str, dict]]) -> None:
    """Send each (group, message) through the channel layer, all in one crossing."""
    layer = get_channel_layer()
    messages = list(messages)
    if layer is None or not messages:
        return

    async def send_all() -> None:
        results = await asyncio.gather(
            *(layer.group_send(group, message) for group, message in messages), return_exceptions=True
        )
        for (group, _), result in zip(messages, results, strict=True):
            if isinstance(result, BaseException):
                logger.warning("Push to %s failed: %r", group, result)

    if isinstance(layer, InMemoryChannelLayer):
        async_to_sync(send_all)()
    else:
        _loop.submit(send_all())


class _ProcessLoop:
    """One event loop per process, in a daemon thread, for fire-and-forget coroutines."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0
        self._pending: set[Future] = set()

    def submit(self, coroutine) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._running())
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def drain(self, timeout: float = _DRAIN_SECONDS) -> None:
        """Wait a little for what is still being sent: a process that exits loses none it can help."""
        with self._lock:
            pending = list(self._pending)
        if pending:
            wait(pending, timeout=timeout)

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():  # a forked child starts its own
                self._loop, self._pid, self._pending = asyncio.new_event_loop(), os.getpid(), set()
                threading.Thread(target=self._loop.run_forever, name="channel-layer-loop", daemon=True).start()
            return self._loop

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.warning("Push failed: %r", future.exception())


_loop = _ProcessLoop()
atexit.register(_loop.drain)
