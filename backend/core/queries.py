"""Small read helpers shared by the selectors of every app."""

from typing import Any, TypeVar

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
