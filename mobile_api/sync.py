"""`GET /sync`: what changed in the caller's sight since their cursor (WatermelonDB's pull).

The cursor is the server's, never the client's clock: `backend.core.sync` stamps every write
with its place in commit order, and each pull reads one consistent snapshot whose horizon is
the next cursor, so a row that a long transaction commits late is not skipped (it may come
twice). A pull too big for one page continues with a cursor that keeps that first horizon:
rows changed while the client pages are sent again next time, never lost.

Rows that left the caller's sight come as `deleted`: tombstones (handovers, unshares,
deletions) and customers merged into another.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from backend.core.errors import ApplicationError
from backend.core.models import Tombstone
from backend.core.sync import horizon, snapshot_begin
from backend.crm.models import Customer
from backend.crm.selectors import activity_list, contact_list, opportunity_list, tip_list
from backend.notifications.services import notification_list
from backend.org.scoping import scope
from backend.sales.selectors import order_list, reward_list, sale_list, shipment_list
from mobile_api.pagination import decode_cursor, encode_cursor
from mobile_api.schemas.sync import SYNCED

DEFAULT_SYNC_PAGE = 200
MAX_SYNC_PAGE = 500
TOMBSTONES = len(SYNCED)  # the position of the tombstones after the tables


def _customers(user: Any) -> QuerySet:
    # Merged customers are included here so they can be sent as deleted.
    return scope(Customer.objects.all(), user).select_related("owner", "region")


@dataclass(frozen=True)
class Table:
    name: str
    rows: Callable[[Any], QuerySet]
    gone: Callable[[Model], bool] = lambda row: False


TABLES = [
    Table("customers", _customers, gone=lambda row: row.merged_into_id is not None),
    Table("contacts", lambda user: contact_list(user=user)),
    Table("opportunities", lambda user: opportunity_list(user=user)),
    Table("activities", lambda user: activity_list(user=user)),
    Table("orders", lambda user: order_list(user=user)),
    Table("shipments", lambda user: shipment_list(user=user)),
    Table("sales", lambda user: sale_list(user=user)),
    Table("rewards", lambda user: reward_list(user=user)),
    Table("notifications", lambda user: notification_list(user=user)),
    Table("tips", lambda user: tip_list(user=user)),
]
assert [t.name for t in TABLES] == list(SYNCED), "tables and schemas must list the same tables in one order"
BY_LABEL = {
    "crm.customer": TABLES[0], "crm.contact": TABLES[1], "crm.opportunity": TABLES[2], "crm.activity": TABLES[3],
    "sales.order": TABLES[4], "sales.shipment": TABLES[5], "sales.sale": TABLES[6], "sales.reward": TABLES[7],
    "notifications.notification": TABLES[8], "crm.tip": TABLES[9],
}


@dataclass
class Position:
    since: int  # rows stamped at or after this
    until: int | None  # the horizon of this pull's first page: the cursor once it is complete
    table: int = 0
    after: tuple[int, str] | None = None  # (stamp, pk) of the last row sent in `table`


def _bad_cursor() -> ApplicationError:
    return ApplicationError(_("This cursor is not one we gave out."), code="bad_cursor")


def _position(cursor: str | None) -> Position:
    if not cursor:
        return Position(since=0, until=None)
    data = decode_cursor(cursor)
    try:
        after = data.get("after")
        position = Position(
            since=int(data["since"]), until=data.get("until"), table=int(data.get("table", 0)),
            after=(int(after[0]), str(after[1])) if after else None,
        )
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        raise _bad_cursor() from None
    if not 0 <= position.table <= TOMBSTONES:
        raise _bad_cursor()
    return position


def _after(queryset: QuerySet, after: tuple[int, str] | None) -> QuerySet:
    if after is None:
        return queryset
    stamp, pk = after
    return queryset.filter(Q(sync_stamp__gt=stamp) | Q(sync_stamp=stamp, pk__gt=pk))


def pull(*, user: Any, cursor: str | None, limit: int | None = None) -> dict:
    """One page of changes and the cursor to pull the next one (or, when `has_more` is false,
    to keep for the next sync). A fixed number of queries, whatever the page size."""
    position = _position(cursor)
    size = max(1, min(limit or DEFAULT_SYNC_PAGE, MAX_SYNC_PAGE))
    outer = connection.in_atomic_block
    with transaction.atomic():
        if not outer:
            snapshot_begin()
        if position.until is None:
            position.until = horizon()
        changes = {table.name: {"created": [], "updated": [], "deleted": []} for table in TABLES}
        bucket = "created" if position.since == 0 else "updated"
        remaining = size
        while position.table <= TOMBSTONES and remaining > 0:
            if position.table < TOMBSTONES:
                rows = _table_page(TABLES[position.table], user, position, remaining, changes, bucket)
            else:
                rows = _tombstone_page(user, position, remaining, changes)
            if rows > remaining:
                break
            remaining -= rows
            position.table, position.after = position.table + 1, None
    done = position.table > TOMBSTONES
    next_cursor = {"since": position.until} if done else {
        "since": position.since, "until": position.until, "table": position.table, "after": position.after,
    }
    return {"changes": changes, "cursor": encode_cursor(next_cursor), "has_more": not done}


def _table_page(table: Table, user: Any, position: Position, remaining: int, changes: dict, bucket: str) -> int:
    """Send up to `remaining` rows of `table`; returns how many there were (remaining + 1: more)."""
    query = _after(table.rows(user).filter(sync_stamp__gte=position.since), position.after)
    rows = list(query.order_by("sync_stamp", "pk")[: remaining + 1])
    for row in rows[:remaining]:
        if table.gone(row):
            changes[table.name]["deleted"].append(str(row.pk))
        else:
            changes[table.name][bucket].append(row)
    if len(rows) > remaining:
        last = rows[remaining - 1]
        position.after = (last.sync_stamp, str(last.pk))
    return len(rows)


def _tombstone_page(user: Any, position: Position, remaining: int, changes: dict) -> int:
    query = Tombstone.objects.filter(user=user, sync_stamp__gte=position.since)
    if position.after is not None:
        stamp, pk = position.after
        query = query.filter(Q(sync_stamp__gt=stamp) | Q(sync_stamp=stamp, pk__gt=int(pk)))
    stones = list(query.order_by("sync_stamp", "pk")[: remaining + 1])
    page = stones[:remaining]
    by_label: dict[str, set[str]] = {}
    for stone in page:
        if stone.model in BY_LABEL:
            by_label.setdefault(stone.model, set()).add(stone.object_id)
    for label, ids in by_label.items():
        table = BY_LABEL[label]
        # A row the caller still (or again) sees is not deleted for them.
        still = {str(pk) for pk in table.rows(user).filter(pk__in=ids).values_list("pk", flat=True)}
        deleted = changes[table.name]["deleted"]
        deleted.extend(sorted(ids - still - set(deleted)))
    if len(stones) > remaining:
        last = page[-1]
        position.after = (last.sync_stamp, str(last.pk))
    return len(stones)
