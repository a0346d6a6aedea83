"""Where each synced row stands in commit order, so offline clients can pull "what changed since".

Every `TimeStamped` row carries `sync_stamp`, set on each write:

- PostgreSQL: the writing transaction's id (`txid_current()`). A pull reads in one REPEATABLE
  READ snapshot and hands out that snapshot's `xmin` as the next cursor: every transaction still
  running then has an id at or above it, so a row that a long transaction commits late is still
  at or above the cursor on the next pull. Rows may come twice; none is ever skipped.
- SQLite: writers are serialised, so a counter bumped under the write lock orders writes as
  commits are ordered.

A pull then asks for rows with `sync_stamp >= cursor` (see `mobile_api.sync`). Rows that leave
someone's sight without being written for them (a handover, an unshare, a deletion) are recorded
with `tombstone_record` so the client drops them.
"""

from collections.abc import Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db.models.expressions import RawSQL

# One expression for every write: each write resolves its own copy. Built once, because a bulk
# insert of a batch would otherwise build one (and a field for its type) per row.
_TRANSACTION_ID = RawSQL("txid_current()", (), output_field=models.BigIntegerField())


def stamp_for(using: str) -> Any:
    """The stamp of a write made now on connection `using`: an SQL expression on PostgreSQL
    (evaluated by the write itself), the next counter value on SQLite. Also for `update()`:
    `queryset.update(..., sync_stamp=stamp_for(queryset.db))`."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        return _TRANSACTION_ID
    from backend.core.models import SyncClock

    table = connection.ops.quote_name(SyncClock._meta.db_table)
    with connection.cursor() as cursor:
        # One statement, run under the write lock SQLite takes for it: no two writers interleave.
        cursor.execute(
            f"INSERT INTO {table} (id, value) VALUES (1, 1) "  # noqa: S608  (table name from the model)
            "ON CONFLICT(id) DO UPDATE SET value = value + 1 RETURNING value"
        )
        return cursor.fetchone()[0]


def horizon(using: str = DEFAULT_DB_ALIAS) -> int:
    """The cursor for "everything visible to the current read": call it first in the pull's
    transaction. Rows written after it (or committed after it) have stamps at or above it."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT txid_snapshot_xmin(txid_current_snapshot())")
            return int(cursor.fetchone()[0])
        from backend.core.models import SyncClock

        cursor.execute(f"SELECT value FROM {connection.ops.quote_name(SyncClock._meta.db_table)} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
        return (row[0] if row else 0) + 1


def snapshot_begin(using: str = DEFAULT_DB_ALIAS) -> None:
    """Make the transaction just opened read one consistent snapshot (PostgreSQL's default reads
    a new one per statement). Must run before any other statement of that transaction; inside an
    outer transaction (tests) it is left as it is."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")


class SyncStampField(models.BigIntegerField):
    """Set on every save (also with `update_fields`, see `TimeStamped.save`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", 0)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        # Indexed unless told otherwise: a field without its index must say so in its migration.
        name, path, args, kwargs = super().deconstruct()
        if not self.db_index:
            kwargs["db_index"] = False
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        using = model_instance._state.db or router.db_for_write(type(model_instance), instance=model_instance)
        value = stamp_for(using)
        setattr(model_instance, self.attname, value)
        return value


def tombstone_record(*, instances: Iterable[models.Model], user_ids: Iterable[int]) -> int:
    """Tell the sync of each of `user_ids` that `instances` may have left their sight (deleted,
    handed over, unshared). Call it in the transaction of the change, with the people who could
    see the rows before it (`backend.org.scoping.viewer_ids`). Over-telling is harmless: a pull
    drops the tombstone of a row its user still sees."""
    from backend.core.models import Tombstone

    users = sorted(set(user_ids))
    rows = [
        Tombstone(model=instance._meta.label_lower, object_id=str(instance.pk), user_id=user_id)
        for instance in instances
        for user_id in users
    ]
    Tombstone.objects.bulk_create(rows)
    return len(rows)
