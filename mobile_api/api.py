"""The phone app's API v1 (API.md): one NinjaAPI, one router per domain, one error shape.

Adding a router is one line at the bottom: `api.add_router("/prefix", router)`. Every operation
gets the request scope (actor context, idempotent POSTs) through the two decorators below.
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from backend.core.errors import ApplicationError
from mobile_api.idempotency import replay_or_mark, request_scope
from mobile_api.routers import (
    activities,
    auth,
    contacts,
    customers,
    me,
    notifications,
    opportunities,
    orders,
    reports,
    sales,
    sync,
    tips,
)

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Fieldline API",
    version="1",
    description=(
        "The phone app's API. Sign in with a texted code (`/auth/otp`, `/auth/token`), then send "
        "`Authorization: Bearer <token>`. Errors are `{\"detail\", \"code\"}`; a record outside your "
        "sight answers 404 like a missing one. Live events: websocket `/ws/v1/stream`."
    ),
    urls_namespace="api-v1",
)
api.add_decorator(request_scope, mode="view")
api.add_decorator(replay_or_mark, mode="operation")

_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 429: "throttled"}


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    body = {"detail": str(error.message), "code": error.code, **error.extra}
    return api.create_response(request, body, status=error.status)


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    body = {"detail": _("Some fields are not valid."), "code": "invalid", "errors": error.errors}
    return api.create_response(request, body, status=422)


@api.exception_handler(DjangoValidationError)
def model_validation_error(request: HttpRequest, error: DjangoValidationError) -> HttpResponse:
    """A model's own rules (`full_clean`) said no: a 422 like any invalid input, never a 500."""
    fields = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    errors = [{"loc": ["body", field], "msg": msg, "type": "invalid"} for field, msgs in fields.items() for msg in msgs]
    body = {"detail": _("Some fields are not valid."), "code": "invalid", "errors": errors}
    return api.create_response(request, body, status=422)


@api.exception_handler(DataError)
def data_error(request: HttpRequest, error: DataError) -> HttpResponse:
    """A value the database cannot hold (a NUL character, a string over a column's length): a 422
    like any invalid input, never a 500."""
    body = {"detail": _("Some fields are not valid."), "code": "invalid", "errors": []}
    return api.create_response(request, body, status=422)


@api.exception_handler(IntegrityError)
def integrity_error(request: HttpRequest, error: IntegrityError) -> HttpResponse:
    """A client-made id that is taken, or a race the database settled: a conflict, not a crash."""
    body = {"detail": _("This conflicts with an existing record (is its id already used?)."), "code": "conflict"}
    return api.create_response(request, body, status=409)


def database_unavailable(run: Callable) -> Callable:
    """View hook, the outermost: the database unreachable (restarting, failing over) anywhere in the
    call, the keyed POST's transaction included, is a JSON 503 the client retries. Every write is one
    transaction, so nothing was half-written."""

    @wraps(run)
    def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            return run(request, **kwargs)
        except (OperationalError, InterfaceError) as error:
            logger.warning("API %s %s: database unavailable: %s", request.method, request.path, error)
            body = {"detail": _("The service is briefly unavailable; please try again."), "code": "unavailable"}
            response = api.create_response(request, body, status=503)
            response["Retry-After"] = "5"
            return response

    return wrapper


api.add_decorator(database_unavailable, mode="view")  # added after request_scope: wraps it


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    body = {"detail": _("Sign in first: the token is missing, wrong or revoked."), "code": "unauthorized"}
    return api.create_response(request, body, status=401)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    body = {"detail": str(error), "code": _HTTP_CODES.get(error.status_code, "error")}
    return api.create_response(request, body, status=error.status_code)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found."), "code": "not_found"}, status=404)


def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    """A path under the API that no route has: the API's JSON 404, not the site's HTML page."""
    return not_found(request, Http404())


api.add_router("/auth", auth.router)
api.add_router("/me", me.router)
api.add_router("/customers", customers.router)
api.add_router("/contacts", contacts.router)
api.add_router("/opportunities", opportunities.router)
api.add_router("/activities", activities.router)
api.add_router("/orders", orders.router)
api.add_router("/shipments", orders.shipments_router)
api.add_router("/sales", sales.router)
api.add_router("/notifications", notifications.router)
api.add_router("/tips", tips.router)
api.add_router("/sync", sync.router)
api.add_router("/reports", reports.router)
api.add_router("/ownership", "mobile_api.routers.ownership.router")
