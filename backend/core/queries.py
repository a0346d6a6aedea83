"""Small query helpers shared by the apps."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Field, Model, QuerySet

from backend.core.errors import NotFound

M = TypeVar("M", bound=Model)


def get_or_not_found(queryset: QuerySet[M], pk: Any, message: Any) -> M:
    """The row `pk` of `queryset` (already scoped by the caller), or NotFound: a record outside
    the caller's scope must look exactly like a missing one."""
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise NotFound(message, code="not_found")
    return row


def save_fields_each(instances: list[M], fields: list[str]) -> None:
    """Save `fields` of each instance, one UPDATE per row sent in one go (`executemany`, a
    pipeline on PostgreSQL). For rows that each got their own values: `bulk_update` builds a
    CASE per column and row, which costs more than the database's work. Sends no signals."""
    if not instances:
        return
    model = type(instances[0])
    connection = connections[router.db_for_write(model)]
    columns = [model._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    statement = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"  # noqa: S608  (names from the model)
    rows = [
        [field.get_db_prep_save(getattr(instance, field.attname), connection) for field in columns] + [instance.pk]
        for instance in instances
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def update_row(
    model: type[Model], pk: Any, values: Mapping[str, Any], *, where: Mapping[str, Any], condition: str = ""
) -> int:
    """Set `values` on the row `pk` if its fields hold the values in `where` (None: IS NULL) and the
    SQL `condition` holds: the number of rows changed, 0 or 1. The statement is written out rather
    than built by the ORM, for a write made once per item of a busy loop (the worker claims and
    records each text it sends), where building it took longer than running it. Plain values of
    the model's own columns only; `condition` is constant SQL (no values, no %) and may name the
    model's table. Sends no signals."""
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name

    def terms(fields: Mapping[str, Any], joiner: str, *, null: str) -> tuple[str, list[Any]]:
        columns = {model._meta.get_field(name): value for name, value in fields.items()}
        given = {field: value for field, value in columns.items() if value is not None}
        sql = joiner.join(f"{quote(field.column)} {'= %s' if field in given else null}" for field in columns)
        return sql, [field.get_db_prep_save(value, connection) for field, value in given.items()]

    assignments, params = terms(values, ", ", null="= NULL")
    conditions, condition_params = terms({model._meta.pk.name: pk, **where}, " AND ", null="IS NULL")
    statement = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {conditions}"  # noqa: S608  (names from the model)
    if condition:
        statement += f" AND {condition}"
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, *condition_params])
        return cursor.rowcount


@dataclass(frozen=True)
class Copied:
    """For `insert_copies`: the value of this column of the source row."""

    column: str


@dataclass(frozen=True)
class PerRow:
    """For `insert_copies`: a value of each source row's own, in the order of the keys given."""

    values: Sequence[Any]


def insert_copies(
    target: type[Model], source: type[Model], keys: Sequence[Any], fields: Mapping[str, Any]
) -> list[Any]:
    """One `target` row for each `source` row of `keys`, in key order, written by the database
    (INSERT … SELECT): no model instance is built in Python. Each field named in `fields` takes a
    `Copied` column of the source row, its `PerRow` value, or the constant given; every other
    field its default. The new rows' primary keys."""
    if not keys:
        return []
    connection = connections[router.db_for_write(target)]
    quote = connection.ops.quote_name
    given = {name: target._meta.get_field(name) for name in fields}
    defaults = {field.name: field for field in target._meta.concrete_fields
                if field.name not in given and not field.primary_key}
    source_key = f"t.{quote(source._meta.pk.column)}"
    key_values = [source._meta.pk.get_db_prep_value(key, connection) for key in keys]
    columns, values, params = [], [], []
    for name, field in [*given.items(), *defaults.items()]:
        value = fields[name] if name in fields else field.get_default()
        columns.append(quote(field.column))
        if isinstance(value, Copied):
            values.append(f"t.{quote(value.column)}")
        elif isinstance(value, PerRow):
            cases = " ".join(f"WHEN %s THEN {_typed(field, connection)}" for _ in keys)
            values.append(f"CASE {source_key} {cases} END")
            for key, own in zip(key_values, value.values, strict=True):
                params += [key, field.get_db_prep_save(own, connection)]
        else:
            values.append(_typed(field, connection))
            params.append(field.get_db_prep_save(value, connection))
    statement = (
        f"INSERT INTO {quote(target._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608  (names from the models)
        f"SELECT {', '.join(values)} FROM {quote(source._meta.db_table)} t "
        f"WHERE {source_key} IN ({', '.join(['%s'] * len(keys))}) ORDER BY {source_key} "
        f"RETURNING {quote(target._meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, *key_values])
        return [row[0] for row in cursor.fetchall()]


def _typed(field: Field, connection: Any) -> str:
    """A parameter typed as `field`'s column: a NULL or a bare string would otherwise reach the
    database with no type it can insert."""
    return f"CAST(%s AS {field.cast_db_type(connection)})"
