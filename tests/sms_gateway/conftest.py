import uuid
import xml.etree.ElementTree as ET

import pytest

from sms_gateway.providers import locmem
from tests.fakes.twilio_server import signed_headers

AUTH_TOKEN = "secret"
INBOUND = "/sms/twilio/inbound"
STATUS = "/sms/twilio/status"
SERVICE_NUMBER = "+15005550006"


@pytest.fixture(autouse=True)
def outbox(settings):
    """Texts go to the locmem provider's outbox, emptied around each test."""
    settings.SMS_PROVIDER = "locmem"
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = ""
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


def signed_post(client, path: str, params: dict, token: str = AUTH_TOKEN, url: str | None = None, **extra):
    """POST like Twilio: form-encoded and signed for `url` (by default the test server's own)."""
    signature = signed_headers(url or f"http://testserver{path}", params, token)["X-Twilio-Signature"]
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature, **extra)


def reply_of(response) -> str | None:
    """The text of the TwiML <Message>, or None for an empty <Response/>."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    message = ET.fromstring(response.content).find("Message")
    return None if message is None else message.text


@pytest.fixture
def text(client, django_capture_on_commit_callbacks):
    """Text `body` from `sender` through the signed webhook; returns the inline reply.
    Callbacks on commit run, so texts the command causes reach the outbox."""

    def send(sender: str, body: str, sid: str | None = None) -> str | None:
        params = {"MessageSid": sid or f"SM{uuid.uuid4().hex}", "From": sender, "To": SERVICE_NUMBER, "Body": body}
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_post(client, INBOUND, params)
        return reply_of(response)

    return send


@pytest.fixture(scope="session")
def twilio_server():
    from tests.fakes.twilio_server import FakeTwilio

    with FakeTwilio(account_sid="ACtest", auth_token=AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def fake_twilio(twilio_server, settings):
    """The real twilio provider, talking to a Twilio-compatible server on loopback."""
    twilio_server.reset()
    settings.SMS_PROVIDER = "twilio"
    settings.TWILIO_ACCOUNT_SID = twilio_server.account_sid
    settings.TWILIO_FROM_NUMBER = SERVICE_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = twilio_server.base_url
    return twilio_server
