"""The pull of `GET /sync`, shaped like WatermelonDB's: per table, created / updated / deleted."""

from ninja import Schema

from mobile_api.schemas.common import example, example_of
from mobile_api.schemas.crm import ActivityOut, ContactOut, CustomerOut, OpportunityOut
from mobile_api.schemas.notifications import NotificationOut
from mobile_api.schemas.sales import OrderOut, RewardOut, SaleOut, ShipmentOut
from mobile_api.schemas.tips import TipOut

# Parents before children, so a page rarely holds a child whose parent comes later.
SYNCED: dict[str, type[Schema]] = {
    "customers": CustomerOut,
    "contacts": ContactOut,
    "opportunities": OpportunityOut,
    "activities": ActivityOut,
    "orders": OrderOut,
    "shipments": ShipmentOut,
    "sales": SaleOut,
    "rewards": RewardOut,
    "notifications": NotificationOut,
    "tips": TipOut,
}


def _changes(table: str, schema: type[Schema]) -> type[Schema]:
    name = table.title().replace("_", "") + "Changes"
    return type(name, (Schema,), {
        "__annotations__": {"created": list[schema], "updated": list[schema], "deleted": list[str]},
        "model_config": example(created=[], updated=[example_of(schema)], deleted=[]),
    })


SyncChanges = type("SyncChanges", (Schema,), {
    "__annotations__": {table: _changes(table, schema) for table, schema in SYNCED.items()},
    "model_config": example(**{
        table: {"created": [], "updated": [example_of(schema)] if table == "customers" else [], "deleted": []}
        for table, schema in SYNCED.items()
    }),
})


class SyncOut(Schema):
    """Apply `changes`, then pull again with `cursor` while `has_more`; keep the last `cursor`
    for the next sync. `created` is used on the first pull only (no cursor), `updated` after."""

    changes: SyncChanges
    cursor: str
    has_more: bool

    model_config = example(changes=example_of(SyncChanges), cursor="eyJzaW5jZSI6MTIzNH0", has_more=False)
