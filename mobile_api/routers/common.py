"""Small pieces the routers share: If-Match versions, the current record on a 412, the door."""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema

from audit.context import Door
from backend.core.errors import ApplicationError

_VERSION = re.compile(r'^(?:W/)?"?(\d+)"?$')


def if_match(request: HttpRequest) -> int | None:
    """The version the client's change was based on (`If-Match: 3` or `"3"`); None: not given."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw or raw == "*":
        return None
    match = _VERSION.match(raw)
    if match is None:
        raise ApplicationError(_("If-Match must be the record's version, e.g. \"3\"."), code="bad_if_match")
    return int(match.group(1))


@contextmanager
def current_on_mismatch(schema: type[Schema], current: Callable[[], Any]) -> Iterator[None]:
    """A stale If-Match answers 412 with the current record, so the client can merge and retry."""
    try:
        yield
    except ApplicationError as error:
        if error.code == "version_mismatch":
            error.extra["current"] = schema.from_orm(current()).model_dump(mode="json")
        raise


def door_of(request: HttpRequest) -> str:
    return Door.API_KEY if getattr(request, "api_key", None) is not None else Door.APP


def changes_of(payload: Schema, nullable: frozenset[str] = frozenset()) -> dict:
    """The fields a PATCH gave; null only where null is a value (clearing a phone)."""
    return {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k in nullable}
