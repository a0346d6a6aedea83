"""Redis down (issue 8.4): the cache, the channel layer and the Celery broker all gone at once.
Inbound texts are still stored, handled and answered, the app still answers, and the texts that
must go out wait in the database; when Redis is back the sweeper hands them to a worker and each
is sent once. The test runs its own redis-server on a free loopback port and stops it itself."""

import re
import shutil
import socket
import subprocess
import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from backend.celery import app
from backend.org.models import Role
from backend.org.services import api_key_issue
from backend.reports import demo
from backend.sales.models import Sale, Shipment
from sms_gateway import tasks
from sms_gateway.models import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus
from sms_gateway.providers import locmem
from tests.mobile_api.conftest import ApiClient
from tests.trust.conftest import AUTH_TOKEN, SERVICE_NUMBER, signed_post

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary"),
]


class RedisServer:
    """redis-server on 127.0.0.1:<free port>, no persistence; stop() is Redis going down."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def _point_celery_at(broker: str) -> None:
    """The app publishes to `broker` from now on (its connection pools are keyed by URL)."""
    app.conf.broker_url = broker
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_server(settings):
    server = RedisServer()
    server.start()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}}
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [server.url]}}}
    settings.SMS_PROVIDER = "locmem"
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = ""
    eager, broker = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    _point_celery_at(server.url)
    locmem.outbox.clear()
    yield server
    server.stop()
    app.conf.task_always_eager = eager
    _point_celery_at(broker)
    locmem.outbox.clear()


def _text(client, sender: str, body: str) -> str:
    params = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": sender, "To": SERVICE_NUMBER, "Body": body}
    response = signed_post(client, "/sms/twilio/inbound", params)
    assert response.status_code == 200, response.content
    return response.content.decode()


def test_with_redis_down_texts_are_answered_and_outbound_waits_then_resumes(client, redis_server):
    demo.seed()
    _, key = api_key_issue(name="wms-erp", role=Role.LOGISTICS)
    redis_server.stop()

    # Redis is down: the doors still work.
    shipped = _text(client, "+8613800000020", "SHIP PO-1001 SF SF1234567 ETA +2")
    sold = _text(client, "+8613800000001", "SOLD BCD470 2")
    status = _text(client, "+8613800000002", "STATUS")
    by_api = ApiClient(key).post("/shipments", {"order_number": "PO-1002", "carrier": "SF"})
    code = ApiClient().post("/auth/otp", {"phone": "+8613800000003"})

    assert re.search(r"H\d+: PO-1001 shipped", shipped) and re.search(r"S\d+: 2 BCD470 recorded", sold)
    assert "<Message>" in status
    assert (by_api.status_code, code.status_code) == (201, 202)
    assert InboundMessage.objects.filter(status=InboundStatus.PROCESSED).count() == 3
    assert Sale.objects.filter(rep__username="zhang", voided_at__isnull=True, channel="sms").count() >= 2
    assert Shipment.objects.filter(order__number__in=["PO-1001", "PO-1002"]).count() == 2
    waiting = OutboundMessage.objects.filter(status=OutboundStatus.QUEUED)
    assert sorted(waiting.values_list("to", flat=True)) == ["+8613800000001", "+8613800000002", "+8613800000003"]
    assert OutboundMessage.objects.filter(status=OutboundStatus.SENT_INLINE).count() == 3
    assert locmem.outbox == []

    # Redis is back: the sweeper (beat, every minute) hands the waiting texts to a worker.
    redis_server.start()
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert tasks.sweep() == {"outbound": 3, "inbound": 0}
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        deadline = time.monotonic() + 20
        while waiting.exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    assert not waiting.exists()
    assert OutboundMessage.objects.filter(status=OutboundStatus.SENT).count() == 3
    assert sorted(text.to for text in locmem.outbox) == ["+8613800000001", "+8613800000002", "+8613800000003"]
