"""History for every business model, with the door each change came through."""

from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords
from simple_history.utils import bulk_create_with_history

from audit.context import Door, current_actor


class DoorHistory(models.Model):
    """Base of every historical model: adds which door the change came through."""

    history_door = models.CharField(max_length=16, choices=Door.choices, default=Door.SYSTEM)
    history_api_key_name = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        abstract = True


def _actor_user(instance: Any = None, request: Any = None, **kwargs: Any) -> Any:
    user = current_actor().user
    if user is not None:
        return user
    if request is not None and getattr(request, "user", None) is not None:
        return request.user if request.user.is_authenticated else None
    return None


def history(**kwargs: Any) -> HistoricalRecords:
    """HistoricalRecords with the actor and the door filled in from `audit.context`."""
    return HistoricalRecords(bases=[DoorHistory], get_user=_actor_user, **kwargs)


def bulk_create_with_door_history(objs: list[Any], model: type[models.Model], *, users: list[Any]) -> list[Any]:
    """`bulk_create` with one history row per object, stamped like a save would stamp it: the door
    of `audit.context`, and `users[i]` as the person behind `objs[i]` (a batch may hold many)."""
    actor = current_actor()
    for obj, user in zip(objs, users, strict=True):
        obj._history_user = user
    return bulk_create_with_history(objs, model, custom_historical_attrs={
        "history_door": actor.door, "history_api_key_name": getattr(actor.api_key, "name", "") or "",
    })
