"""History for every business model, with the door each change came through."""

import functools
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import models, router, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

from audit.context import Door, current_actor
from backend.core.queries import Copied, PerRow, insert_copies
from backend.core.sync import stamp_for


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


class DoorHistoricalRecords(HistoricalRecords):
    """History is read by record (`id`) and by date (`history_date`, indexed by simple-history,
    as is `history_user`). The copied fields keep an index only where `indexed` names them: the
    tracked table's other indexes would be one more write each on every change, read by nobody."""

    def __init__(self, *, indexed: Sequence[str] = (), **kwargs: Any) -> None:
        self.indexed = {"id", *indexed}
        super().__init__(**kwargs)

    def copy_fields(self, model: type[models.Model]) -> dict[str, models.Field]:
        fields = super().copy_fields(model)
        for name, field in fields.items():
            field.db_index = name in self.indexed
        return fields

    def create_history_model(self, model: type[models.Model], inherited: bool) -> type[models.Model]:
        """The historical model, named by the module it is put in (the tracked model's): for an app
        whose label is not its package's last name (`sales` in `backend.sales`) simple-history names
        the package instead, where nothing of that name is found (`manage.py shell` cannot import
        it)."""
        history_model = super().create_history_model(model, inherited)
        if not inherited:  # an inherited history is named by its model's module already
            history_model.__module__ = self.module
        return history_model


def history(**kwargs: Any) -> HistoricalRecords:
    """History with the actor and the door filled in from `audit.context`."""
    return DoorHistoricalRecords(bases=[DoorHistory], get_user=_actor_user, **kwargs)


def bulk_create_with_door_history(objs: list[Any], model: type[models.Model], *, users: list[Any]) -> list[Any]:
    """`bulk_create` with one history row per object, stamped like a save would stamp it: the door
    of `audit.context`, and `users[i]` as the person behind `objs[i]` (a batch may hold many).

    The history rows are copied by the database from the rows just written: no historical model is
    built in Python for them, and they hold exactly what was stored."""
    # The rows and their history, or neither.
    with transaction.atomic(using=router.db_for_write(model), savepoint=False):
        created = model._default_manager.bulk_create(objs)
        _copy_to_history(model, created, users, change="+")
    return created


def update_with_door_history(objs: Sequence[Any], model: type[models.Model], *, users: list[Any],
                             **values: Any) -> None:
    """`save(update_fields=...)` of the same `values` on each of `objs`, in one UPDATE, with one
    history row (`~`) per object stamped like a save's: the door of `audit.context` and `users[i]` as
    the person behind the change of `objs[i]`. A `TimeStamped` row's `updated_at` and `sync_stamp` move
    as a save moves them. The objects take the values too. Sends no signals."""
    if not objs:
        return
    using = router.db_for_write(model)
    if hasattr(model, "sync_stamp"):
        values = {**values, "updated_at": timezone.now(), "sync_stamp": stamp_for(using)}
    with transaction.atomic(using=using, savepoint=False):
        model._default_manager.filter(pk__in=[obj.pk for obj in objs]).update(**values)
        for obj in objs:
            for name, value in values.items():
                if name != "sync_stamp":  # an expression here: the row holds the number
                    setattr(obj, name, value)
        _copy_to_history(model, objs, users, change="~")


# Rows per copying statement: three parameters a row stay well under SQLite's and PostgreSQL's limits.
COPY_CHUNK = 1000


def _copy_to_history(model: type[models.Model], objs: Sequence[Any], users: Sequence[Any], *, change: str) -> None:
    """One history row (`change`: "+" or "~") per object of `objs`, `users[i]` behind `objs[i]`, copied
    by the database from the rows as stored, COPY_CHUNK rows a statement (unless history is off)."""
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    user_ids = [getattr(user, "pk", user) for user in users]
    for start in range(0, len(objs), COPY_CHUNK):
        _copy_chunk(model, objs[start:start + COPY_CHUNK], user_ids[start:start + COPY_CHUNK], change)


def _copy_chunk(model: type[models.Model], objs: Sequence[Any], user_ids: list[Any], change: str) -> None:
    """INSERT INTO history (tracked columns, stamps, user) SELECT them FROM the table, for `objs`."""
    history_model = _history_model(model)
    actor = current_actor()
    insert_copies(history_model, model, [obj.pk for obj in objs], {
        **{field.name: Copied(field.column) for field in history_model.tracked_fields},
        "history_date": timezone.now(), "history_change_reason": "", "history_type": change,
        "history_door": actor.door, "history_api_key_name": getattr(actor.api_key, "name", "") or "",
        "history_user": PerRow(user_ids),
    })


@functools.cache
def _history_model(model: type[models.Model]) -> type[models.Model]:
    # `model.history` builds a new manager class (simple-history's descriptor) on every access.
    return model.history.model
