"""The SMS provider misbehaving (issue 8.4), through the real `twilio` client against a
Twilio-compatible server on loopback: 500s, 503s, 429s with Retry-After, sends that time out after
Twilio took the text, texts accepted and then reported failed, and status callbacks arriving late,
twice and out of order. Nothing is lost, nothing is texted twice, no status goes backwards."""

import random

import pytest

from backend.core.logging import RedactSecretsFilter
from backend.notifications.services import notify
from backend.sales.services import shipment_record
from sms_gateway.models import OutboundMessage, OutboundStatus
from sms_gateway.outbound import deliver
from sms_gateway.providers.twilio import provider as twilio_provider
from tests.mobile_api.conftest import ApiClient
from tests.trust.conftest import AUTH_TOKEN, signed_post

pytestmark = pytest.mark.django_db

PUBLIC = "https://fieldline.example.com"
STATUS = "/sms/twilio/status"
CLIENT_TIMEOUT = 0.3
# What Twilio does to each request in turn; None answers normally.
FAULTS = ["500", "503", "429", "timeout", None, "500", "429", None, "timeout", "503", None, "500", "timeout", None]
ERROR_CODES = {"failed": 30008, "undelivered": 30003}


@pytest.fixture
def twilio(fake_twilio, settings, monkeypatch):
    """The twilio provider with a short client timeout, its status callbacks on PUBLIC."""
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    monkeypatch.setattr(twilio_provider, "TIMEOUT_SECONDS", CLIENT_TIMEOUT)
    twilio_provider._client.cache_clear()
    yield fake_twilio
    twilio_provider._client.cache_clear()


def _schedule(fake) -> int:
    for fault in FAULTS:
        if fault == "timeout":  # Twilio takes the text but answers after the client gave up
            fake.delay_next(1, CLIENT_TIMEOUT * 3)
        elif fault is None:
            fake.delay_next(1, 0)
        else:
            fake.fail_next(1, status=int(fault), retry_after=2 if fault == "429" else None)
    return sum(fault is not None for fault in FAULTS)


def _texts_from_real_flows(people) -> list[OutboundMessage]:
    """Twelve texts, queued by what people do (nothing is sent: no commit hands them over)."""
    for number in ("PO-1001", "PO-1002", "PO-1003"):
        shipment_record(actor=people["wms"], order_number=number, carrier="SF", tracking=number, channel="api_key")
    for phone in ("+8613800000001", "+8613800000002", "+8613800000003", "+8613800000010", "+8613800000011"):
        assert ApiClient().post("/auth/otp", {"phone": phone}).status_code == 202
    for username in ("wang", "zhao", "exec", "li"):
        notify(recipient=people[username], kind="alert", text=f"Alert for {username}")
    return list(OutboundMessage.objects.order_by("pk"))


def _callback(client, fake, sent, status: str) -> int:
    """The status callback Twilio posts for `sent`, to the URL the send named, signed like Twilio."""
    params = fake.callback_params(sent, status, ERROR_CODES.get(status))
    path = sent.status_callback.removeprefix(PUBLIC)
    return signed_post(client, path, params, url=sent.status_callback).status_code


def _twilio_reports_what_it_took(client, fake, reported: set[str]) -> None:
    """Twilio posts `sent` for every text it accepted, also those whose answer the client never read."""
    for sent in fake.messages:
        if sent.sid not in reported:
            assert _callback(client, fake, sent, "sent") == 204
            reported.add(sent.sid)


def test_a_storm_of_provider_faults_loses_nothing_and_texts_nobody_twice(client, twilio, people):
    texts = _texts_from_real_flows(people)
    assert len(texts) == 12 and all(t.status == OutboundStatus.QUEUED for t in texts)
    injected = _schedule(twilio)
    reported: set[str] = set()

    # The worker: each queued text is tried; failures come back later, as the task's retries would.
    for _round in range(10):
        queued = list(OutboundMessage.objects.filter(status=OutboundStatus.QUEUED).order_by("pk"))
        if not queued:
            break
        for text in queued:
            later = deliver(text.pk)
            text.refresh_from_db()
            if later is not None and text.error_code == "20429":
                assert later.countdown >= 2  # never sooner than Twilio's Retry-After
            if text.error_code == "network":  # timed out: Twilio's callback arrives before the retry
                twilio.wait_for_messages(len(reported) + 1, timeout=5)
            _twilio_reports_what_it_took(client, twilio, reported)

    assert twilio.pending_faults == 0, "every fault was injected"
    rows = list(OutboundMessage.objects.order_by("pk"))
    assert len(rows) == 12
    assert all(row.status == OutboundStatus.SENT for row in rows), [(r.pk, r.status, r.error) for r in rows]
    received = twilio.messages
    assert len(received) == 12, "one text per row: no duplicate, none lost"
    assert {m.sid for m in received} == {row.provider_sid for row in rows}
    # The same texts (a kept sign-in text has its code blanked once sent).
    assert sorted((m.to, RedactSecretsFilter.redact(m.body)) for m in received) == sorted(
        (row.to, row.body) for row in rows)
    assert all("[REDACTED]" in row.body for row in rows if row.kind == "otp")
    refused = sum(fault not in (None, "timeout") for fault in FAULTS)
    assert twilio.attempts == len(received) + refused, "no request beyond one per text and one per refusal"
    assert injected == refused + FAULTS.count("timeout")


def test_callbacks_late_twice_out_of_order_and_failures_after_acceptance(client, twilio, people):
    """Each text's reports are posted shuffled, some twice; Twilio fails some after accepting them.
    The row ends in its true final state and keeps the error; none goes backwards."""
    texts = _texts_from_real_flows(people)
    for text in texts:
        assert deliver(text.pk) is None
    rng = random.Random(8)
    finals = {}
    posts = []
    for sent in twilio.messages:
        final = rng.choice(["delivered", "delivered", "failed", "undelivered"])
        finals[sent.sid] = final
        posts += [(sent, status) for status in ("queued", "sent", final)]
        posts += [(sent, rng.choice(["sent", final]))]  # a retry of one report
    rng.shuffle(posts)

    assert all(_callback(client, twilio, sent, status) == 204 for sent, status in posts)

    expected = {"delivered": OutboundStatus.DELIVERED, "failed": OutboundStatus.FAILED,
                "undelivered": OutboundStatus.UNDELIVERED}
    for row in OutboundMessage.objects.all():
        final = finals[row.provider_sid]
        assert (row.status, row.provider_status) == (expected[final], final), row.pk
        assert row.error_code == str(ERROR_CODES.get(final, "")), row.pk
    assert OutboundMessage.objects.count() == len(twilio.messages) == 12
    assert len(posts) == 48
