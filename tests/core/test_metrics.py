"""Prometheus metrics: texts by the status they reach, HTTP latency, database queries."""

import uuid

import pytest
from prometheus_client import REGISTRY

from sms_gateway.providers import locmem
from tests.fakes.twilio_server import signed_headers

AUTH_TOKEN = "secret"


def _count(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def sms_settings(settings):
    settings.SMS_PROVIDER = "locmem"
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = ""
    locmem.outbox.clear()
    yield
    locmem.outbox.clear()


def _text(client, sender: str, body: str) -> None:
    params = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": sender, "To": "+15005550006", "Body": body}
    headers = signed_headers("http://testserver/sms/twilio/inbound", params, AUTH_TOKEN)
    response = client.post("/sms/twilio/inbound", params, HTTP_X_TWILIO_SIGNATURE=headers["X-Twilio-Signature"])
    assert response.status_code == 200


def test_inbound_and_outbound_texts_are_counted_by_status(
    demo_data, client, sms_settings, django_capture_on_commit_callbacks
):
    before = {
        "received": _count("fieldline_sms_inbound_total", status="received"),
        "processed": _count("fieldline_sms_inbound_total", status="processed"),
        "rejected": _count("fieldline_sms_inbound_total", status="rejected"),
        "queued": _count("fieldline_sms_outbound_total", status="queued"),
        "sent": _count("fieldline_sms_outbound_total", status="sent"),
        "inline": _count("fieldline_sms_outbound_total", status="sent_inline"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        _text(client, "+8613800000020", "SHIP PO-1001 SF SF1234567 ETA +2")  # processed, texts Zhang
    _text(client, "+8613800000099", "SOLD CS75")  # unknown sender: rejected

    assert _count("fieldline_sms_inbound_total", status="received") - before["received"] == 2
    assert _count("fieldline_sms_inbound_total", status="processed") - before["processed"] == 1
    assert _count("fieldline_sms_inbound_total", status="rejected") - before["rejected"] == 1
    assert _count("fieldline_sms_outbound_total", status="queued") - before["queued"] == 1
    assert _count("fieldline_sms_outbound_total", status="sent") - before["sent"] == 1
    assert _count("fieldline_sms_outbound_total", status="sent_inline") - before["inline"] == 2  # both replies


def test_metrics_page_shows_texts_and_request_latency(db, client):
    client.get("/healthz")
    page = client.get("/metrics").content.decode()
    assert "# TYPE fieldline_sms_inbound_total counter" in page
    assert "# TYPE fieldline_sms_outbound_total counter" in page
    assert 'django_http_requests_latency_seconds_by_view_method_bucket{le="0.1",method="GET",view="healthz"}' in page
