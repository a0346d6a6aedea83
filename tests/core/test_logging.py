"""Structured logs and the request id that follows a message from the webhook to the worker."""

import json
import logging
import threading

import pytest
from celery.contrib.testing.worker import start_worker

from backend.celery import app
from backend.core.logging import (
    JsonLogFormatter,
    RedactSecretsFilter,
    RequestIdFilter,
    current_request_id,
    logging_config,
    new_request_id,
    request_id_for,
    request_id_set,
    request_ids_by,
)


def _json_line(record_args, **extra) -> dict:
    logger = logging.getLogger("tests.core.json")
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, *record_args, None, extra=extra)
    RequestIdFilter().filter(record)
    return json.loads(JsonLogFormatter().format(record))


def test_a_json_line_carries_the_request_id_and_the_extra_fields():
    with request_id_set("abc123def456"):
        line = _json_line(("sale %s", ("S1001",)), status=200)
    assert line["message"] == "sale S1001"
    assert line["request_id"] == "abc123def456"
    assert line["level"] == "INFO"
    assert line["logger"] == "tests.core.json"
    assert line["status"] == 200
    assert line["time"].endswith("+00:00")


@pytest.mark.parametrize(("text", "redacted"), [
    ("key fld_abcdefgh1234 used", "key fld_[REDACTED] used"),
    ("key flk_abcdefgh1234 used", "key flk_[REDACTED] used"),
    ("Authorization: basic dXNlcjpwYXNzd29yZA==", "Authorization: basic [REDACTED]"),
    ("OTP 246810", "OTP [REDACTED]"),
    ("Authorization: BEARER abcdefgh.ijkl", "Authorization: BEARER [REDACTED]"),
    ("Your sign-in CODE is 123456.", "Your sign-in CODE is [REDACTED]."),
    ("登录码：654321", "登录码：[REDACTED]"),
    ("token twilio-secret-token here", "token [REDACTED] here"),
    ("sent 123456 texts", "sent 123456 texts"),  # six digits with no word for a code
    ("sent", "sent"),
])
def test_secrets_are_blanked_in_the_message_and_in_extra_fields(settings, text, redacted):
    settings.TWILIO_AUTH_TOKEN = "twilio-secret-token"
    logger = logging.getLogger("tests.core.redact")
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, "%s", (text,), None, extra={"detail": text})

    RedactSecretsFilter().filter(record)

    assert (record.getMessage(), record.detail) == (redacted, redacted)


def test_outside_a_request_the_id_is_a_dash():
    assert current_request_id() == "-"
    assert _json_line(("idle", ()))["request_id"] == "-"


def test_work_for_several_requests_logs_each_object_under_the_request_it_came_with():
    came_with = {"text-1": "req-one-0001"}
    with request_id_set("batch-000001"), request_ids_by(came_with.get):
        assert request_id_for("text-1") == "req-one-0001"
        assert request_id_for("notice-1") == "batch-000001"  # not one request's: the batch's own
    assert request_id_for("text-1") == "-"


def test_an_offered_id_is_kept_only_when_it_looks_like_one():
    assert new_request_id("0123456789abcdef0123456789abcdef") == "0123456789abcdef0123456789abcdef"
    for bad in ["", "short", "has space in it", "x" * 200, "inject\nline"]:
        made = new_request_id(bad)
        assert made != bad and len(made) == 32


def test_log_format_json_selects_the_json_formatter():
    assert logging_config(log_format="json", level="INFO")["handlers"]["console"]["formatter"] == "json"
    assert logging_config(log_format="plain", level="INFO")["handlers"]["console"]["formatter"] == "plain"


seen: list[str] = []
ran = threading.Event()


@app.task(name="tests.core.remember_request_id")
def remember_request_id() -> None:
    seen.append(current_request_id())
    ran.set()


@pytest.fixture
def live_worker():
    """A real Celery worker in a thread, on the in-memory broker: messages are really published."""
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = True


def test_a_task_published_during_a_request_runs_under_its_request_id(live_worker):
    seen.clear()
    ran.clear()
    with request_id_set("req-0123456789"):
        remember_request_id.delay()
    assert ran.wait(10), "the worker did not run the task"
    assert seen == ["req-0123456789"]
    assert current_request_id() == "-"
