"""The twilio provider drives the real `twilio` client against FakeTwilio on loopback."""

import socket

import pytest
from django.core.exceptions import ImproperlyConfigured

from sms_gateway.providers import get_provider
from sms_gateway.providers.base import PermanentSendError, TransientSendError
from sms_gateway.providers.twilio import provider as twilio_provider

TO = "+8613800000001"


def test_send_goes_through_the_real_client(fake_twilio):
    sent = get_provider().send(to=TO, body="PO-1001 shipped")

    [message] = fake_twilio.messages
    assert sent.sid == message.sid and sent.sid.startswith("SM")
    assert sent.status == "queued"
    assert (message.to, message.from_, message.body) == (TO, "+15005550006", "PO-1001 shipped")
    assert message.status_callback is None


def test_a_send_leaves_no_info_lines_of_the_twilio_client_in_the_log(fake_twilio, caplog):
    with caplog.at_level("INFO"):
        get_provider().send(to=TO, body="PO-1001 shipped")

    assert fake_twilio.messages and not [record for record in caplog.records if record.name.startswith("twilio")]


def test_status_callback_is_the_public_url(fake_twilio, settings):
    settings.PUBLIC_BASE_URL = "https://fieldline.example.com/"

    get_provider().send(to=TO, body="hi")

    assert fake_twilio.messages[0].status_callback == "https://fieldline.example.com/sms/twilio/status"


def test_messaging_service_is_preferred_to_a_number(fake_twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG0123"

    get_provider().send(to=TO, body="hi")

    assert fake_twilio.messages[0].sender == "MG0123" and fake_twilio.messages[0].from_ is None


@pytest.mark.parametrize(("status", "code"), [(500, "20500"), (503, "20503"), (429, "20429")])
def test_provider_trouble_is_transient(fake_twilio, status, code):
    fake_twilio.fail_next(1, status=status, retry_after=7)

    with pytest.raises(TransientSendError) as caught:
        get_provider().send(to=TO, body="hi")

    assert caught.value.code == code
    assert caught.value.retry_after == (7 if status in (429, 503) else None)
    assert fake_twilio.messages == []


@pytest.mark.parametrize("code", [21211, 21610, 21408])
def test_refusals_are_permanent(fake_twilio, code):
    fake_twilio.reject_numbers({TO: code})

    with pytest.raises(PermanentSendError) as caught:
        get_provider().send(to=TO, body="hi")

    assert caught.value.code == str(code)


def test_unreachable_server_is_transient(fake_twilio, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"

    with pytest.raises(TransientSendError) as caught:
        get_provider().send(to=TO, body="hi")

    assert caught.value.code == "network"


def test_timeout_is_transient(fake_twilio, monkeypatch):
    monkeypatch.setattr(twilio_provider, "TIMEOUT_SECONDS", 0.1)
    twilio_provider._client.cache_clear()
    fake_twilio.delay_next(1, 0.5)
    try:
        with pytest.raises(TransientSendError) as caught:
            get_provider().send(to=TO, body="hi")
    finally:
        twilio_provider._client.cache_clear()

    assert caught.value.code == "network"


def test_the_environments_proxy_is_used_unless_the_host_is_exempt(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    through_proxy = twilio_provider._HttpClient(timeout=1)
    exempt = twilio_provider._HttpClient("http://127.0.0.1:9", timeout=1)

    assert through_proxy.session.proxies["https"] == "http://proxy.example:3128"
    assert not exempt.session.proxies
    assert not through_proxy.session.trust_env  # read once, not on every send


@pytest.mark.parametrize("missing", ["TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER"])
def test_missing_configuration_fails_loudly(fake_twilio, settings, missing):
    setattr(settings, missing, "")

    with pytest.raises(ImproperlyConfigured):
        get_provider()


def test_unknown_provider_fails_loudly(settings):
    settings.SMS_PROVIDER = "carrier-pigeon"

    with pytest.raises(ImproperlyConfigured):
        get_provider()
