"""Pacing: at most N calls a second for one key, across every process that shares the Redis.

A provider limits how fast one sending number may send (Twilio: one text a second on a long
code) and answers 429 beyond it; pacing before the call keeps every worker under the limit
instead of learning it from errors. Starts are spaced at least 1/N apart: a caller asks Redis
(one atomic script, on Redis's own clock, so workers on several machines agree) whether the
key's next start time has come; if so it takes it and moves it on, otherwise it sleeps until
then and asks again. A start is taken when the call really starts, never booked ahead, so a
worker that wakes late cannot bunch up with one that is on time; and evenly spaced starts,
unlike bursts, stay within the limit at the provider too.

Without Redis (the embedded default runs tasks in process) the next start is kept in this process.
"""

import threading
import time

from django.conf import settings

# A request reaches the provider some milliseconds after it starts, later when the worker's
# machine is busy: starts 25% further apart than 1/N absorb that, so no second at the provider
# sees more than N of them (10% let 21 of 20 through on a loaded machine).
_MARGIN = 1.25

_TAKE = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local next_us = tonumber(redis.call('GET', KEYS[1]) or '0')
if now_us >= next_us then
    local interval_us = tonumber(ARGV[1])
    redis.call('SET', KEYS[1], now_us + interval_us, 'PX', math.floor(interval_us / 1000) + 1000)
    return 0
end
return next_us - now_us
"""

_local_lock = threading.Lock()
_local_next: dict[str, float] = {}
_script = None


def pace(key: str, per_second: float) -> float:
    """Wait until `key` may start another call; returns the seconds waited. `per_second` <= 0:
    no limit."""
    if per_second <= 0:
        return 0.0
    interval = _MARGIN / per_second
    take = _take_redis if settings.REDIS_URL else _take_local
    waited = 0.0
    while (wait := take(key, interval)) > 0:
        time.sleep(wait)
        waited += wait
    return waited


def _take_redis(key: str, interval: float) -> float:
    global _script
    if _script is None:
        import redis

        _script = redis.Redis.from_url(settings.REDIS_URL).register_script(_TAKE)
    wait_us = _script(keys=[f"fieldline:pace:{key}"], args=[int(interval * 1_000_000)])
    return int(wait_us) / 1_000_000


def _take_local(key: str, interval: float) -> float:
    with _local_lock:
        now = time.monotonic()
        next_start = _local_next.get(key, 0.0)
        if now >= next_start:
            _local_next[key] = now + interval
            return 0.0
        return next_start - now
