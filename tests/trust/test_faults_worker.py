"""A real Celery worker process on Redis, killed in the middle of a send (issue 8.4): the task is
acknowledged late, so it comes back to the next worker; the text is neither lost nor sent twice.

Needs Redis (REDIS_URL) and PostgreSQL (the worker, another process, reads the test database);
CI has both. The worker talks to a Twilio-compatible server on loopback; Twilio's status callbacks
reach the test's live server."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from backend.reports import demo
from backend.sales.services import shipment_record
from sms_gateway import outbound
from sms_gateway.models import OutboundMessage, OutboundStatus
from tests.fakes.twilio_server import FakeTwilio
from tests.trust.conftest import AUTH_TOKEN, SERVICE_NUMBER

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL (CI does)"),
]

ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_SECONDS = 2  # how soon Redis hands a dead worker's task to the next one
HANG_SECONDS = 4  # Twilio holds the killed worker's request this long


def _broker() -> str:
    """A Redis database of its own, so no other process takes these tasks."""
    url = redis.from_url(os.environ["REDIS_URL"])
    kwargs = url.connection_pool.connection_kwargs
    return f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/14"


class Worker:
    """`celery worker` in its own process, as production runs it (one slot, acks late)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "backend", "worker", "--pool=solo", "--concurrency=1",
             "--without-mingle", "--without-gossip", "--without-heartbeat", "-l", "INFO",
             "-n", f"trust-{uuid.uuid4().hex[:6]}@%h"],
            cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, nothing acknowledged, as when the machine dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def fake():
    with FakeTwilio(account_sid="ACworker", auth_token=AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def worker_env(fake, live_server, settings, tmp_path):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = live_server.url  # the callbacks' signatures are checked against it
    db = connection.settings_dict
    broker = _broker()
    redis.from_url(broker).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
                        f"/{db['NAME']}",
        "CELERY_BROKER_URL": broker, "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
        "SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": fake.account_sid, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": SERVICE_NUMBER, "TWILIO_MESSAGING_SERVICE_SID": "",
        "TWILIO_API_BASE_URL": fake.base_url, "PUBLIC_BASE_URL": live_server.url,
        "SECRET_KEY": django_settings.SECRET_KEY, "LOG_LEVEL": "INFO",
    }
    yield env, broker, tmp_path / "worker.log"
    redis.from_url(broker).flushdb()


def _queued_texts(monkeypatch, people) -> list[OutboundMessage]:
    """Six shipment notices, committed; their hand-off is ours to publish (to the test's broker)."""
    monkeypatch.setattr(outbound, "hand_over", lambda message_id: None)
    for number in ("PO-1001", "PO-1002", "PO-1003") * 2:
        shipment_record(actor=people["wms"], order_number=number, carrier="SF", tracking=number, channel="api_key")
    monkeypatch.undo()
    return list(OutboundMessage.objects.order_by("pk"))


def test_a_worker_killed_mid_send_loses_nothing_and_texts_once(worker_env, fake, monkeypatch):
    env, broker, log = worker_env
    demo.seed()
    texts = _queued_texts(monkeypatch, _people())
    assert len(texts) == 6
    publisher = Celery(broker=broker)
    task_ids = {text.pk: f"trust-send-{text.pk}-{uuid.uuid4().hex[:6]}" for text in texts}
    # 1. Twilio takes the first text but holds its answer; the second never reaches Twilio alive.
    fake.delay_next(1, HANG_SECONDS)
    for text in texts:
        publisher.send_task("sms_gateway.tasks.send_outbound", args=[text.pk], task_id=task_ids[text.pk])

    first = Worker(env, log)
    _wait(lambda: fake.attempts >= 1, 60, "the first worker to start sending")
    first.kill()  # mid-send: the row is `sending`, the task unacknowledged
    killed = OutboundMessage.objects.get(status=OutboundStatus.SENDING)

    # 2. Twilio accepted it anyway and reports it, to the URL that names the row.
    [accepted] = fake.wait_for_messages(1, timeout=HANG_SECONDS + 5)
    assert fake.deliver(accepted.sid, "sent") == 204

    # 3. The next worker gets the killed task back (late acknowledgement) and the rest.
    second = Worker(env, log)
    try:
        _wait(lambda: not OutboundMessage.objects.exclude(status=OutboundStatus.SENT).exists(), 60,
              "every text to be sent")
        # Received by the dead worker, then again by this one.
        _wait(lambda: log.read_text().count(f"{task_ids[killed.pk]}] received") >= 2, 30,
              "the killed task to come back")
    finally:
        second.stop()

    rows = list(OutboundMessage.objects.order_by("pk"))
    assert [row.status for row in rows] == [OutboundStatus.SENT] * 6
    received = fake.messages
    assert len(received) == 6, "each text reached Twilio once: none lost, none twice"
    assert {m.sid for m in received} == {row.provider_sid for row in rows}
    killed.refresh_from_db()
    assert killed.provider_sid == accepted.sid


def test_a_worker_killed_before_twilio_took_the_text_sends_it_later_once(worker_env, fake, monkeypatch):
    """The other half: the worker dies while Twilio has not taken the text (its request fails
    after the kill). No report ever comes, the row stays `sending`; the sweeper revives it once it
    is stale and the next worker sends it: once."""
    env, broker, log = worker_env
    demo.seed()
    texts = _queued_texts(monkeypatch, _people())
    publisher = Celery(broker=broker)
    fake.fail_next(1, status=500, delay=HANG_SECONDS)  # held, then refused: Twilio never has it
    for text in texts:
        publisher.send_task("sms_gateway.tasks.send_outbound", args=[text.pk])

    first = Worker(env, log)
    _wait(lambda: fake.attempts >= 1, 60, "the first worker to start sending")
    first.kill()
    killed = OutboundMessage.objects.get(status=OutboundStatus.SENDING)

    second = Worker(env, log)
    try:
        _wait(lambda: OutboundMessage.objects.filter(status=OutboundStatus.SENT).count() == 5, 60, "the others")
        assert OutboundMessage.objects.get(pk=killed.pk).status == OutboundStatus.SENDING  # not sent blindly
        # Ten minutes later (SENDING_STALE) the beat's sweep finds it.
        earlier = timezone.now() - timedelta(minutes=11)
        OutboundMessage.objects.filter(pk=killed.pk).update(sending_since=earlier, created_at=earlier)
        publisher.send_task("sms_gateway.tasks.sweep")
        _wait(lambda: OutboundMessage.objects.get(pk=killed.pk).status == OutboundStatus.SENT, 60, "the revived text")
    finally:
        second.stop()

    received = fake.messages
    assert len(received) == 6 and len({m.to + m.body for m in received}) == len({t.to + t.body for t in texts})
    killed.refresh_from_db()
    assert killed.provider_sid in {m.sid for m in received}


def _people() -> dict:
    from backend.org.models import User

    return {u.username: u for u in User.objects.all()}
