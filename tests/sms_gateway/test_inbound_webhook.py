"""The inbound webhook: signature first, then store, then handle; replays and crashes lose nothing."""

import io
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.sales.models import Sale
from sms_gateway import inbound
from sms_gateway.commands import BATCH_HANDLERS, sold
from sms_gateway.language import Sold
from sms_gateway.models import InboundMessage, InboundStatus, OptOut, OutboundMessage, OutboundStatus
from tests.factories import ProductFactory, RepFactory, RewardRuleFactory
from tests.fakes.twilio_server import twilio_signature

from .conftest import AUTH_TOKEN, INBOUND, SERVICE_NUMBER, reply_of, signed_post

pytestmark = pytest.mark.django_db

ZHANG = "+8613800000001"


@pytest.fixture
def people(db):
    """A rep who reads Chinese and a product to sell: enough here, and faster than the demo set."""
    RewardRuleFactory(product=ProductFactory(code="BCD470"))
    return {"zhang": RepFactory(phone=ZHANG, preferred_language="zh-hans"),
            "li": RepFactory(phone="+8613800000002")}


def sales_today(user) -> int:
    return Sale.objects.filter(rep=user, sold_at__date=timezone.localdate()).count()


def params(body: str = "STATUS", sender: str = ZHANG, sid: str | None = None) -> dict:
    return {"MessageSid": sid or f"SM{uuid.uuid4().hex}", "From": sender, "To": SERVICE_NUMBER, "Body": body}


# ---------------------------------------------------------------- signatures


def test_a_signed_text_is_answered_with_twiml(people, client):
    response = signed_post(client, INBOUND, params("HELP"))

    assert response.status_code == 200
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response><Message>SMS commands:')


def test_a_missing_signature_is_403_and_nothing_is_stored(people, client):
    response = client.post(INBOUND, params("SOLD BCD470"))

    assert response.status_code == 403
    assert not InboundMessage.objects.exists() and sales_today(people["zhang"]) == 0


def test_a_forged_signature_is_403(people, client):
    response = signed_post(client, INBOUND, params("SOLD BCD470"), token="not-the-token")

    assert response.status_code == 403
    assert not InboundMessage.objects.exists() and sales_today(people["zhang"]) == 0


def test_a_tampered_body_is_403(people, client):
    signed = params("STATUS")
    signature = twilio_signature(f"http://testserver{INBOUND}", signed, AUTH_TOKEN)
    tampered = {**signed, "Body": "SOLD BCD470 999"}

    response = client.post(INBOUND, tampered, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_no_auth_token_configured_is_403(people, client, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    response = signed_post(client, INBOUND, params(), token="")

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_only_post(client):
    assert client.get(INBOUND).status_code == 405


def test_a_signed_post_without_message_sid_is_400(client):
    response = signed_post(client, INBOUND, {"From": ZHANG, "Body": "HELP"})

    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("sid", ["SM" + "0" * 63, "SM\x00abc"])
def test_a_message_sid_that_cannot_be_stored_is_400_with_the_rule(people, client, sid):
    response = signed_post(client, INBOUND, params(sid=sid))

    assert response.status_code == 400 and b"at most 64 characters" in response.content
    assert not InboundMessage.objects.exists()


def test_public_base_url_is_the_url_twilio_signed(people, client, settings):
    settings.PUBLIC_BASE_URL = "https://fieldline.example.com"
    public = f"https://fieldline.example.com{INBOUND}"

    assert signed_post(client, INBOUND, params(), url=public).status_code == 200
    assert signed_post(client, INBOUND, params()).status_code == 403  # signed for the internal URL


def test_behind_a_proxy_that_terminates_https(people, client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["fieldline.example.com"]
    proxied = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "fieldline.example.com"}

    ok = signed_post(client, INBOUND, params(), url=f"https://fieldline.example.com{INBOUND}", **proxied)
    plain_http = signed_post(client, INBOUND, params(), url=f"http://fieldline.example.com{INBOUND}", **proxied)

    assert (ok.status_code, plain_http.status_code) == (200, 403)


# ---------------------------------------------------------------- store first, replays


def test_a_replayed_webhook_answers_the_same_and_creates_nothing(people, client):
    first = params("SOLD BCD470 2")

    replies = [reply_of(signed_post(client, INBOUND, first)) for _ in range(3)]

    assert replies[0] == replies[1] == replies[2] and replies[0].startswith("S")
    assert InboundMessage.objects.count() == 1
    assert Sale.objects.filter(reference=InboundMessage.objects.get().reference).count() == 2
    assert OutboundMessage.objects.filter(kind="reply").count() == 1


def test_a_duplicate_delivery_finds_the_stored_row(people):
    text = inbound.Text(provider="twilio", provider_id="SM1", sender=ZHANG, to=SERVICE_NUMBER, body="STATUS")

    [(first, created)] = inbound.receive_many([text])
    [(again, created_again)] = inbound.receive_many([text])

    assert (created, created_again) == (True, False) and first.pk == again.pk


def test_a_duplicate_while_the_first_is_in_flight_gets_an_empty_answer(people, client):
    stuck = params("SOLD BCD470")
    InboundMessage.objects.create(provider_id=stuck["MessageSid"], sender=ZHANG, body=stuck["Body"])

    assert reply_of(signed_post(client, INBOUND, stuck)) is None
    assert sales_today(people["zhang"]) == 0 and InboundMessage.objects.get().status == InboundStatus.RECEIVED


def test_the_sender_is_stored_in_e164(people, client):
    signed_post(client, INBOUND, params(sender="008613800000001"))

    message = InboundMessage.objects.get()
    assert message.sender == ZHANG and message.user == people["zhang"]


# ---------------------------------------------------------------- crashes


def crash_after_the_sale(texts: list) -> None:
    sold.handle_many(texts)
    raise RuntimeError("disk on fire")


def test_a_crash_leaves_the_message_failed_and_twilio_a_well_formed_answer(people, client, monkeypatch):
    monkeypatch.setitem(BATCH_HANDLERS, Sold, crash_after_the_sale)
    crashing = params("SOLD BCD470 2")

    response = signed_post(client, INBOUND, crashing)

    assert reply_of(response) == "抱歉，您的短信暂时无法处理；短信已保存，稍后处理。"  # Zhang reads Chinese
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.FAILED and "RuntimeError: disk on fire" in message.error
    assert message.body == "SOLD BCD470 2" and message.attempts == 1
    assert sales_today(people["zhang"]) == 0  # the half-done sale was rolled back
    # Twilio retrying gets the same answer and nothing runs again.
    assert reply_of(signed_post(client, INBOUND, crashing)) == reply_of(response)
    assert InboundMessage.objects.get().attempts == 1


def test_sms_reprocess_runs_failed_messages_again(people, client, monkeypatch, outbox,
                                                   django_capture_on_commit_callbacks):
    monkeypatch.setitem(BATCH_HANDLERS, Sold, crash_after_the_sale)
    signed_post(client, INBOUND, params("SOLD BCD470 2"))
    monkeypatch.setitem(BATCH_HANDLERS, Sold, sold.handle_many)  # the bug is fixed and deployed

    with django_capture_on_commit_callbacks(execute=True):
        call_command("sms_reprocess", stdout=io.StringIO())

    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.PROCESSED and message.attempts == 2
    assert Sale.objects.filter(reference=message.reference).count() == 2
    [sent] = outbox
    assert sent.to == ZHANG and sent.body == message.reply and message.reference in sent.body
    reply = OutboundMessage.objects.get(in_reply_to=message, status=OutboundStatus.SENT)
    assert reply.is_reply and reply.kind == "reply"


# ---------------------------------------------------------------- rate limit


def test_a_flooding_number_gets_one_warning_then_is_only_stored(people, client):
    replies = [reply_of(signed_post(client, INBOUND, params("STATUS"))) for _ in range(inbound.RATE_LIMIT + 3)]

    assert all(r.startswith("Today:") for r in replies[: inbound.RATE_LIMIT])
    assert replies[inbound.RATE_LIMIT] == "此号码短信过多：一分钟内的后续短信会保存，但不回复。"
    assert replies[inbound.RATE_LIMIT + 1 :] == [None, None]
    assert InboundMessage.objects.count() == inbound.RATE_LIMIT + 3
    limited = InboundMessage.objects.filter(status=InboundStatus.REJECTED, error="rate_limited")
    assert limited.count() == 3


def test_a_flooding_number_can_still_stop(people, client):
    for _ in range(inbound.RATE_LIMIT):
        signed_post(client, INBOUND, params("STATUS"))

    assert reply_of(signed_post(client, INBOUND, params("STOP"))) is not None  # the one warning
    assert OptOut.objects.get(phone=ZHANG).is_active


def test_other_numbers_are_not_limited(people, client):
    for _ in range(inbound.RATE_LIMIT + 1):
        signed_post(client, INBOUND, params("STATUS"))

    assert reply_of(signed_post(client, INBOUND, params("STATUS", sender="+8613800000002"))).startswith("Today:")
