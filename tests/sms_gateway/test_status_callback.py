"""Twilio's delivery reports: signed, late, twice or out of order; never a step backwards."""

import pytest

from sms_gateway.models import OptOut, OutboundMessage, OutboundStatus
from sms_gateway.outbound import queue_sms

from .conftest import STATUS, signed_post

pytestmark = pytest.mark.django_db

TO = "+8613800000001"


@pytest.fixture
def sent(fake_twilio, django_capture_on_commit_callbacks) -> OutboundMessage:
    """A text the real client handed to (fake) Twilio."""
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_sms(to=TO, body="PO-1001 shipped", kind="shipment")
    message.refresh_from_db()
    assert message.status == OutboundStatus.SENT
    return message


def report(client, fake_twilio, message: OutboundMessage, status: str, error_code: int | None = None, **kwargs):
    """The status callback Twilio would post for `message`, signed like Twilio signs it."""
    params = fake_twilio.callback_params(fake_twilio.message(message.provider_sid), status, error_code)
    response = signed_post(client, STATUS, params, **kwargs)
    message.refresh_from_db()
    return response


def test_delivery_is_recorded(client, fake_twilio, sent):
    assert report(client, fake_twilio, sent, "sent").status_code == 204
    assert (sent.status, sent.provider_status) == (OutboundStatus.SENT, "sent")

    report(client, fake_twilio, sent, "delivered")
    assert (sent.status, sent.provider_status) == (OutboundStatus.DELIVERED, "delivered")


def test_a_late_callback_never_moves_the_status_back(client, fake_twilio, sent):
    report(client, fake_twilio, sent, "delivered")

    for late in ("sent", "sending", "queued"):
        report(client, fake_twilio, sent, late)

    assert (sent.status, sent.provider_status) == (OutboundStatus.DELIVERED, "delivered")


def test_a_duplicate_callback_changes_nothing(client, fake_twilio, sent):
    report(client, fake_twilio, sent, "delivered")
    changed_at = sent.status_changed_at

    report(client, fake_twilio, sent, "delivered")
    report(client, fake_twilio, sent, "undelivered")  # a final state is final

    assert (sent.status, sent.status_changed_at) == (OutboundStatus.DELIVERED, changed_at)


def test_undelivered_keeps_the_error_code(client, fake_twilio, sent):
    report(client, fake_twilio, sent, "undelivered", error_code=30003)

    assert (sent.status, sent.error_code) == (OutboundStatus.UNDELIVERED, "30003")


def test_21610_in_a_callback_opts_the_number_out(client, fake_twilio, sent):
    report(client, fake_twilio, sent, "failed", error_code=21610)

    assert sent.status == OutboundStatus.FAILED
    assert OptOut.objects.get(phone=TO).is_active
    assert queue_sms(to=TO, body="digest", kind="digest").status == OutboundStatus.SUPPRESSED


def test_an_unknown_message_is_acknowledged_and_ignored(client):
    params = {"MessageSid": "SMunknown", "MessageStatus": "delivered", "To": TO, "From": "+15005550006"}

    assert signed_post(client, STATUS, params).status_code == 204
    assert not OutboundMessage.objects.exists()


def test_a_forged_callback_is_403_and_changes_nothing(client, fake_twilio, sent):
    response = report(client, fake_twilio, sent, "delivered", token="forged")

    assert response.status_code == 403 and sent.status == OutboundStatus.SENT


def test_a_callback_without_a_status_is_400(client):
    assert signed_post(client, STATUS, {"MessageSid": "SM1"}).status_code == 400
