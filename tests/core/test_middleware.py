"""Every request gets an id, returned to the caller and stamped on every log line it causes,
including the outbound text sent on its behalf."""

import uuid

import pytest

from backend.core.logging import RequestIdFilter
from sms_gateway.providers import locmem
from tests.fakes.twilio_server import signed_headers

AUTH_TOKEN = "secret"


@pytest.fixture
def sms_settings(settings):
    settings.SMS_PROVIDER = "locmem"
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = ""
    locmem.outbox.clear()
    yield
    locmem.outbox.clear()


@pytest.fixture
def logs(caplog):
    caplog.set_level("INFO")
    caplog.handler.addFilter(RequestIdFilter())  # as the console handler of LOGGING does
    return caplog


def test_a_request_gets_an_id_in_the_response_and_in_the_access_log(db, client, logs):
    response = client.get("/healthz")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    access = [r for r in logs.records if r.name == "fieldline.access"]
    assert [(r.method, r.path, r.status, r.request_id) for r in access] == [("GET", "/healthz", 200, request_id)]
    assert access[0].duration_ms >= 0


def test_the_id_nginx_made_is_the_one_used(db, client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="f00dfeedcafe4b1d8e7a5c3b2a190817")
    assert response["X-Request-ID"] == "f00dfeedcafe4b1d8e7a5c3b2a190817"


@pytest.mark.django_db(transaction=True)  # commits for real, so the send is handed over inside the request
def test_the_request_id_follows_a_text_from_the_webhook_to_the_outbound_send(demo_data, client, logs, sms_settings):
    params = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": "+8613800000020", "To": "+15005550006",
              "Body": "SHIP PO-1001 SF SF1234567 ETA +2"}
    headers = signed_headers("http://testserver/sms/twilio/inbound", params, AUTH_TOKEN)
    response = client.post("/sms/twilio/inbound", params, HTTP_X_TWILIO_SIGNATURE=headers["X-Twilio-Signature"],
                           HTTP_X_REQUEST_ID="trace-0123456789")
    assert response.status_code == 200
    assert [m.to for m in locmem.outbox] == ["+8613800000001"]  # Zhang Wei is texted
    changes = [(r.object, r.status) for r in logs.records if r.name == "fieldline.metrics"]
    assert ("sms_gateway.InboundMessage", "received") in changes
    assert ("sms_gateway.InboundMessage", "processed") in changes
    assert ("sms_gateway.OutboundMessage", "sent") in changes
    assert {r.request_id for r in logs.records if r.name == "fieldline.metrics"} == {"trace-0123456789"}
