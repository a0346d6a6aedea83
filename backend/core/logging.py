"""Structured logs that can be followed across processes.

A request id is put in a contextvar when a request starts (the one nginx made, or a new one),
copied into the headers of every Celery task published while it is set, and put back in the
contextvar when the worker runs the task. Every log line carries it, so one grep follows an SMS
from the webhook to the outbound send in another process.
"""

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

HEADER = "request_id"
_NO_REQUEST = "-"
# Accept a caller's id only when it looks like one: it ends up in logs and response headers.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

_request_id: ContextVar[str] = ContextVar("fieldline_request_id", default=_NO_REQUEST)


def current_request_id() -> str:
    return _request_id.get()


def new_request_id(offered: str | None = None) -> str:
    """The caller's id (nginx's `$request_id`) when it is well formed, otherwise a fresh one."""
    if offered and _VALID.match(offered):
        return offered
    return uuid.uuid4().hex


@contextmanager
def request_id_set(value: str) -> Iterator[str]:
    """Everything logged or published inside carries `value`."""
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record, so both the plain and the JSON format can show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object per line with stable key names, for log shippers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")  # ISO 8601 in UTC, whatever TIME_ZONE says
        super().__init__("%(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)


def logging_config(*, log_format: str, level: str) -> dict:
    """The LOGGING setting: JSON lines when `log_format` is "json", readable lines otherwise."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "backend.core.logging.RequestIdFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {"()": "backend.core.logging.JsonLogFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if log_format == "json" else "plain",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }


# Celery: the id travels in a message header and is restored around the task in the worker.
_task_tokens: dict[str, Any] = {}


def add_request_id_header(headers: dict | None = None, **kwargs: Any) -> None:
    """`before_task_publish`: stamp the current request id on the outgoing task."""
    if headers is not None and _request_id.get() != _NO_REQUEST:
        headers.setdefault(HEADER, _request_id.get())


def restore_request_id(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """`task_prerun`: the task logs (and publishes) under the id of the request that caused it.
    An eager task has no header and simply keeps the caller's context."""
    request_id = getattr(task.request, HEADER, None) if task is not None else None
    if request_id and task_id:
        _task_tokens[task_id] = _request_id.set(request_id)


def forget_request_id(task_id: str | None = None, **kwargs: Any) -> None:
    """`task_postrun`: the worker's next task starts clean."""
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        _request_id.reset(token)
