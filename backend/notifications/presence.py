"""Whether a person has the app open right now (a live websocket). Kept in the cache: a stale
answer only means one SMS more or less, never a lost notice (the inbox has them all)."""

from django.core.cache import cache

_TTL_SECONDS = 3600


def _key(user_id: int) -> str:
    return f"presence:user:{user_id}"


def mark_online(user_id: int) -> None:
    try:
        cache.incr(_key(user_id))
    except ValueError:
        cache.set(_key(user_id), 1, _TTL_SECONDS)


def mark_offline(user_id: int) -> None:
    try:
        if cache.decr(_key(user_id)) <= 0:
            cache.delete(_key(user_id))
    except ValueError:
        pass


def is_online(user_id: int) -> bool:
    return bool(cache.get(_key(user_id)))
