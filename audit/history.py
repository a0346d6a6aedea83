"""History for every business model, with the door each change came through."""

from typing import Any

from django.conf import settings
from django.db import connections, models, router
from django.utils import timezone
from simple_history.models import HistoricalRecords

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
    of `audit.context`, and `users[i]` as the person behind `objs[i]` (a batch may hold many).

    The history rows are copied by the database from the rows just written, in one statement:
    no historical model is built in Python for them, and they hold exactly what was stored."""
    created = model._default_manager.bulk_create(objs)
    if created and getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        _copy_to_history(model, {obj.pk: getattr(user, "pk", user) for obj, user in zip(created, users, strict=True)})
    return created


def _copy_to_history(model: type[models.Model], user_of: dict[Any, Any]) -> None:
    history_model = model.history.model
    connection = connections[router.db_for_write(history_model)]
    quote = connection.ops.quote_name
    actor = current_actor()
    tracked = [quote(field.column) for field in history_model.tracked_fields]
    stamps = {
        "history_date": timezone.now(), "history_change_reason": "", "history_type": "+",
        "history_door": actor.door, "history_api_key_name": getattr(actor.api_key, "name", "") or "",
    }
    stamp_params = [history_model._meta.get_field(name).get_db_prep_save(value, connection)
                    for name, value in stamps.items()]
    user_field = history_model._meta.get_field("history_user")
    user_of = {model._meta.pk.get_db_prep_value(key, connection): user for key, user in user_of.items()}
    pk = quote(model._meta.pk.column)
    whens = " ".join(f"WHEN %s THEN {_cast('%s', user_field, connection)}" for _ in user_of)
    columns = ", ".join([*tracked, *map(quote, stamps), quote(user_field.column)])
    values = ", ".join([*(f"t.{column}" for column in tracked), *(_cast("%s", history_model._meta.get_field(name),
                                                                        connection) for name in stamps)])
    statement = (
        f"INSERT INTO {quote(history_model._meta.db_table)} ({columns}) "  # noqa: S608  (names from the models)
        f"SELECT {values}, CASE t.{pk} {whens} END FROM {quote(model._meta.db_table)} t "
        f"WHERE t.{pk} IN ({', '.join(['%s'] * len(user_of))}) ORDER BY t.{pk}"
    )
    params = [*stamp_params, *(value for pair in user_of.items() for value in pair), *user_of]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _cast(placeholder: str, field: models.Field, connection: Any) -> str:
    """A parameter typed as its column: a NULL or a bare string would otherwise reach the
    database with no type it can insert."""
    return f"CAST({placeholder} AS {field.cast_db_type(connection)})"
