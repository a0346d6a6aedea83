"""Who is acting, and through which door. Set once per request, SMS or task; read by history.

A contextvar works for threads and for asyncio tasks alike, so the websocket consumers, the
Celery workers and the request threads each see their own actor.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models


class Door(models.TextChoices):
    SMS = "sms", "SMS"
    APP = "app", "App"
    ADMIN = "admin", "Admin"
    API_KEY = "api_key", "API key"
    SYSTEM = "system", "System"


@dataclass(frozen=True)
class Actor:
    user: Any | None
    door: str
    api_key: Any | None = None


_SYSTEM = Actor(user=None, door=Door.SYSTEM)
_current: ContextVar[Actor] = ContextVar("fieldline_actor", default=_SYSTEM)


def current_actor() -> Actor:
    return _current.get()


@contextmanager
def acting(*, user: Any | None, door: str, api_key: Any | None = None) -> Iterator[Actor]:
    """Everything written inside is attributed to `user` through `door`."""
    token = _current.set(Actor(user=user, door=door, api_key=api_key))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def set_actor(*, user: Any | None, door: str, api_key: Any | None = None) -> None:
    """For authentication hooks that cannot wrap the whole call (django-ninja auth)."""
    _current.set(Actor(user=user, door=door, api_key=api_key))


@contextmanager
def acting_as(user: Any | None) -> Iterator[Actor]:
    """The same door (and key) as now, another person: for a batch that came through one door
    from many people, each person's part is theirs."""
    actor = current_actor()
    with acting(user=user, door=actor.door, api_key=actor.api_key) as inner:
        yield inner
