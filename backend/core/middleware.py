"""Request id and access log for every HTTP request."""

import logging
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from backend.core.logging import new_request_id, request_id_set

RESPONSE_HEADER = "X-Request-ID"
access_log = logging.getLogger("fieldline.access")


class RequestIdMiddleware:
    """Takes nginx's `X-Request-ID` (or makes one), keeps it in the logging context for the whole
    request and everything it publishes to Celery, and returns it to the caller.

    Both sync and async, so it adds no thread hop under the ASGI server.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        started = time.perf_counter()
        with request_id_set(new_request_id(request.headers.get(RESPONSE_HEADER))) as request_id:
            response = self.get_response(request)
            return _finish(request, response, request_id, started)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        with request_id_set(new_request_id(request.headers.get(RESPONSE_HEADER))) as request_id:
            response = await self.get_response(request)
            return _finish(request, response, request_id, started)


def _finish(request: HttpRequest, response: HttpResponse, request_id: str, started: float) -> HttpResponse:
    response[RESPONSE_HEADER] = request_id
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response

