"""Structured logs that can be followed across processes.

A request id is put in a contextvar when a request starts (the one nginx made, or a new one),
copied into the headers of every Celery task published while it is set, and put back in the
contextvar when the worker runs the task. Every log line carries it, so one grep follows an SMS
from the webhook to the outbound send in another process. Texts handled together
(`sms_gateway.batching`) each log under their own webhook's id, and what the batch does for them
all (a notice's send) under the batch's own id, whose "Texts handled together" line names theirs.
"""

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

HEADER = "request_id"
_NO_REQUEST = "-"
# Accept a caller's id only when it looks like one: it ends up in logs and response headers.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

_request_id: ContextVar[str] = ContextVar("fieldline_request_id", default=_NO_REQUEST)
# Work done for several requests at once (a batch of texts): the request each object came with.
_request_of: ContextVar[Callable[[Any], str | None] | None] = ContextVar("fieldline_request_of", default=None)


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


@contextmanager
def request_ids_by(request_of: Callable[[Any], str | None]) -> Iterator[None]:
    """Inside, a line about an object carries the request id `request_of(obj)` gives it, when it
    gives one, instead of the current one: work done for several requests at once (a batch of
    texts) still logs what each request brought under that request's id."""
    token = _request_of.set(request_of)
    try:
        yield
    finally:
        _request_of.reset(token)


def request_id_for(obj: Any) -> str:
    """The request id of a line about `obj`: see `request_ids_by`."""
    request_of = _request_of.get()
    return (request_of(obj) if request_of is not None else None) or _request_id.get()


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
        # twilio's client logs every API call at INFO, headers and all: a cost on each send, and
        # the outbound metrics and status log already say what happened to each text.
        "loggers": {"django.db.backends": {"level": "WARNING"}, "twilio.http_client": {"level": "WARNING"}},
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


class RedactSecretsFilter(logging.Filter):
    """Blanks secrets out of every record before a handler writes it: the Twilio auth token and the
    SECRET_KEY by value, device tokens and API keys by their prefixes, Bearer/Basic credentials, and
    6-digit sign-in codes next to the word "code" (a log line is read by more people than a database)."""

    MASK = "[REDACTED]"
    _PATTERNS = (
        (re.compile(r"\b(fld_|flk_)[A-Za-z0-9_-]{8,}"), r"\1" + MASK),
        (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE), r"\1 " + MASK),
        (re.compile(r"((?:code|otp|验证码|登录码)\D{0,24}?)(?<!\d)\d{6}(?!\d)", re.IGNORECASE), r"\1" + MASK),
    )
    # Every pattern needs one of these words (a new pattern adds its own); most strings (an id, a
    # status) have none, and one search costs less than the substitutions (a log line cost 51 µs,
    # two thirds of it here).
    _HINT = re.compile(r"fld_|flk_|bearer|basic|code|otp|验证码|登录码", re.IGNORECASE)
    # Nothing shorter can hold a secret: configured ones have six characters or more, and every
    # pattern matches more than that.
    _SHORTEST = 6
    # Attributes every LogRecord has; anything else came in through `extra=` and is redacted too.
    _STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: the handler reports it as usual
            return True
        secrets = _configured_secrets()
        redacted = self.redact(message, secrets)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            redacted = self.redact(record.exc_text, secrets)
            if redacted != record.exc_text:
                # Formatters would render exc_info afresh, secrets included: only the text is kept.
                record.exc_text, record.exc_info = redacted, None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info, secrets)
        for name, value in list(vars(record).items()):
            if name not in self._STANDARD and isinstance(value, str):
                setattr(record, name, self.redact(value, secrets))
        return True

    @classmethod
    def redact(cls, text: str, secrets: list[str] | None = None) -> str:
        """`text` without secrets; `secrets`: `_configured_secrets()`, when the caller has them."""
        if len(text) < cls._SHORTEST:
            return text
        for secret in _configured_secrets() if secrets is None else secrets:
            text = text.replace(secret, cls.MASK)
        if cls._HINT.search(text):
            for pattern, replacement in cls._PATTERNS:
                text = pattern.sub(replacement, text)
        return text


def _configured_secrets() -> list[str]:
    """Secret values from settings, read at log time (tests and deployments change them)."""
    from django.conf import settings

    if not settings.configured:
        return []
    values = (getattr(settings, "TWILIO_AUTH_TOKEN", ""), getattr(settings, "SECRET_KEY", ""))
    return [value for value in values if value and len(value) >= 6]
