"""Small query helpers shared by the apps."""

from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet

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
