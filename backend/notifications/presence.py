"""Whether a person has the app open right now (a live websocket). Kept in the cache: a stale
answer only means one SMS more or less, never a lost notice (the inbox has them all)."""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

_TTL_SECONDS = 3600


def _key(user_id: int) -> str:
    return f"presence:user:{user_id}"


def mark_online(user_id: int) -> None:
    try:
        cache.incr(_key(user_id))
    except ValueError:
        cache.set(_key(user_id), 1, _TTL_SECONDS)
    except Exception:  # the cache is down: the person is texted rather than pushed, nothing breaks
        logger.warning("presence: cache unavailable", exc_info=True)


def mark_offline(user_id: int) -> None:
    try:
        if cache.decr(_key(user_id)) <= 0:
            cache.delete(_key(user_id))
    except ValueError:
        pass
    except Exception:
        logger.warning("presence: cache unavailable", exc_info=True)


def is_online(user_id: int) -> bool:
    """Unknown (the cache is down) counts as offline: one text more, never a notice missed."""
    try:
        return bool(cache.get(_key(user_id)))
    except Exception:
        logger.warning("presence: cache unavailable", exc_info=True)
        return False
