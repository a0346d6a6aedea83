"""Keyset (cursor) pagination: a page is "the rows after this one in a fixed order", so a page
costs the same at row 10 and at row 10 million, and rows added meanwhile neither repeat nor
vanish. The cursor is opaque to clients."""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from backend.core.errors import ApplicationError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()  # full precision: a truncated value would repeat or skip rows
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def encode_cursor(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApplicationError(_("This cursor is not one we gave out."), code="bad_cursor") from None


def _python(model: type[Model], name: str, value: Any) -> Any:
    try:
        field = model._meta.get_field("id" if name == "pk" else name)
    except FieldDoesNotExist:
        return value  # an annotation (a rank): compared as given
    try:
        return field.to_python(value)
    except ValidationError:
        raise ApplicationError(_("This cursor is not one we gave out."), code="bad_cursor") from None


def _after(model: type[Model], order: tuple[str, ...], values: list) -> Q:
    """Rows strictly after `values` in `order`: (a > x) or (a = x and b > y) or …"""
    condition = Q(pk__in=[])
    equal = Q()
    for term, value in zip(order, values, strict=True):
        name = term.lstrip("-")
        value = _python(model, name, value)
        condition |= equal & Q(**{f"{name}__{'lt' if term.startswith('-') else 'gt'}": value})
        equal &= Q(**{name: value})
    return condition


def keyset_page(queryset: QuerySet, *, order: tuple[str, ...], cursor: str | None, limit: int | None) -> Page:
    """One page of `queryset` in `order` (whose last term must be unique, e.g. the id)."""
    size = max(1, min(limit or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE))
    rows_query = queryset.order_by(*order)
    if cursor:
        values = decode_cursor(cursor)
        if not isinstance(values, list) or len(values) != len(order):
            raise ApplicationError(_("This cursor is not one we gave out."), code="bad_cursor")
        rows_query = rows_query.filter(_after(queryset.model, order, values))
    rows = list(rows_query[: size + 1])
    if len(rows) <= size:
        return Page(rows, None)
    last = rows[size - 1]
    return Page(rows[:size], encode_cursor([_plain(getattr(last, t.lstrip("-"))) for t in order]))
