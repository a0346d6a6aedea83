"""Pacing: at most N calls a second for one key, across every process that shares the Redis.

A provider limits how fast one sending number may send (Twilio: one text a second on a long
code) and answers 429 beyond it; pacing before the call keeps every worker under the limit
instead of learning it from errors. Each caller reserves the next free slot in Redis (one
atomic script, on Redis's own clock, so workers on several machines agree) and sleeps until it.
A worker only reserves a slot when it holds a task, so the wait is at most about
(workers / rate) seconds however long the queue is.

Without Redis (the embedded default runs tasks in process) slots are kept in this process.
"""

import threading
import time

from django.conf import settings

# Slots are reserved by start time, but requests reach the provider a little earlier or later
# (scheduling, network): slots 10% wider than 1/rate absorb that jitter, so no second at the
# provider sees more than `rate` of them.
_MARGIN = 1.1
_KEY_TTL_MS = 60_000

_RESERVE = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval_us = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now_us, last + interval_us)
redis.call('SET', KEYS[1], slot, 'PX', math.floor((slot - now_us) / 1000) + tonumber(ARGV[2]))
return slot - now_us
"""

_local_lock = threading.Lock()
_local_slots: dict[str, float] = {}
_script = None


def pace(key: str, per_second: float) -> float:
    """Wait for `key`'s next slot; returns the seconds waited. `per_second` <= 0: no limit."""
    if per_second <= 0:
        return 0.0
    interval = _MARGIN / per_second
    wait = _reserve_redis(key, interval) if settings.REDIS_URL else _reserve_local(key, interval)
    if wait > 0:
        time.sleep(wait)
    return wait


def _reserve_redis(key: str, interval: float) -> float:
    global _script
    if _script is None:
        import redis

        _script = redis.Redis.from_url(settings.REDIS_URL).register_script(_RESERVE)
    waited_us = _script(keys=[f"fieldline:pace:{key}"], args=[int(interval * 1_000_000), _KEY_TTL_MS])
    return int(waited_us) / 1_000_000


def _reserve_local(key: str, interval: float) -> float:
    with _local_lock:
        now = time.monotonic()
        slot = max(now, _local_slots.get(key, 0.0) + interval)
        _local_slots[key] = slot
    return slot - now
