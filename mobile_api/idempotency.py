"""`Idempotency-Key` on POSTs (API.md): a replay within 24 hours answers what the first call
answered and changes nothing.

Two hooks on every operation of the API:
- `request_scope` (around the whole call, auth included) runs a keyed POST in one transaction
  and stores its answer in that same transaction, so the effect and the record of it commit
  together; a domain refusal (4xx) is stored too, with whatever the service committed for it
  (a duplicate-customer conflict). A parallel call with the same key loses on the unique index
  and is answered with the winner's reply.
- `replay_or_mark` (after authentication, so a revoked token is refused, never replayed)
  answers from the record when there is one.
Keys belong to one device or one API key; calls without a signed-in caller are not recorded.
"""

import contextvars
import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.core.errors import ApplicationError
from mobile_api.auth import principal_of
from mobile_api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_WINDOW = timedelta(hours=24)
MAX_KEY_LENGTH = 255

# For the OpenAPI description of each POST that honours the header.
IDEMPOTENT = {
    "parameters": [{
        "in": "header", "name": HEADER, "required": False,
        "description": "A client-made unique key (a UUID). The same POST sent again with the same key "
                       "within 24 hours answers what the first one answered and changes nothing.",
        "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
        "example": "5b0e0f5e-3c1a-4f5e-9d8c-6f1f2a7b9c10",
    }],
}


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status, content_type=record.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def _record(principal: str, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(principal=principal, key=key).first()


def replay_or_mark(view_func: Callable) -> Callable:
    """Operation hook: answer a replay from its record, or mark the call to be recorded."""

    @wraps(view_func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key, principal = request.headers.get(HEADER, "").strip(), principal_of(request)
        if request.method != "POST" or not key or principal is None:
            return view_func(request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise ApplicationError(_("The Idempotency-Key is too long."), code="bad_idempotency_key")
        fingerprint = _fingerprint(request)
        record = _record(principal, key)
        if record is not None and timezone.now() - record.created_at > REPLAY_WINDOW:
            record.delete()
            record = None
        if record is not None:
            if record.fingerprint != fingerprint:
                raise ApplicationError(
                    _("This Idempotency-Key was used for a different request."),
                    code="idempotency_key_reused", status=422,
                    # The documented 422 shape: which input is wrong.
                    extra={"errors": [{"loc": ["header", HEADER], "msg": "reused", "type": "idempotency_key_reused"}]},
                )
            return _replay(record)
        request._idempotency = (principal, key, fingerprint)
        return view_func(request, *args, **kwargs)

    return wrapper


def request_scope(run: Callable) -> Callable:
    """View hook: each call gets its own actor context (set by auth, gone after the call), and a
    keyed POST runs in one transaction with its stored answer."""

    @wraps(run)
    def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return contextvars.copy_context().run(_call, run, request, kwargs)

    return wrapper


def _call(run: Callable, request: HttpRequest, kwargs: dict) -> HttpResponse:
    if request.method != "POST" or not request.headers.get(HEADER):
        return run(request, **kwargs)
    try:
        with transaction.atomic():
            response = run(request, **kwargs)
            pending = getattr(request, "_idempotency", None)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            elif pending is not None:
                principal, key, fingerprint = pending
                IdempotencyRecord.objects.create(
                    principal=principal, key=key, fingerprint=fingerprint, status=response.status_code,
                    body=response.content, content_type=response.get("Content-Type", "application/json"),
                )
        return response
    except IntegrityError:
        pending = getattr(request, "_idempotency", None)
        winner = _record(*pending[:2]) if pending else None
        if winner is None:
            raise
        return _replay(winner)
