"""`manage.py sms` and `manage.py sms_reprocess`: the same pipeline, from a terminal."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.sales.models import Shipment
from sms_gateway.models import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_sms_prints_the_reply_and_the_text_the_rep_received(people, settings, capsys,
                                                            django_capture_on_commit_callbacks):
    settings.SMS_PROVIDER = "console"

    with django_capture_on_commit_callbacks(execute=True):
        output = run("sms", "+8613800000020", "SHIP PO-1001 SF SF1234567 ETA +2")

    shipment = Shipment.objects.get(order__number="PO-1001")
    assert output == (f"[reply to +8613800000020] {shipment.reference}: PO-1001 shipped. {people['zhang']} "
                      "(+8613800000001) was texted to tell the customer.\n")
    printed = capsys.readouterr().out
    assert printed.startswith("[SMS to +8613800000001] PO-1001 ")
    assert "Wuhan Motors Ltd" in printed and "已通知 PO-1001" in printed  # in Zhang's language
    message = InboundMessage.objects.get()
    assert (message.provider, message.status, message.created_object) == ("cli", InboundStatus.PROCESSED, shipment)
    assert OutboundMessage.objects.get(kind="shipment").status == OutboundStatus.SENT


def test_sms_from_an_unknown_number(db):
    assert "not registered" in run("sms", "+8613800000099", "SOLD CS75")


def test_sms_reprocess_takes_failed_and_stale_messages_only(people, outbox, django_capture_on_commit_callbacks):
    old = timezone.now() - timedelta(minutes=10)
    failed = InboundMessage.objects.create(provider_id="SM1", sender="+8613800000001", body="查询",
                                           status=InboundStatus.FAILED, error="Traceback ...")
    stale = InboundMessage.objects.create(provider_id="SM2", sender="+8613800000002", body="STATUS", received_at=old)
    fresh = InboundMessage.objects.create(provider_id="SM3", sender="+8613800000003", body="STATUS")
    done = InboundMessage.objects.create(provider_id="SM4", sender="+8613800000003", body="STATUS",
                                         status=InboundStatus.PROCESSED, received_at=old)

    with django_capture_on_commit_callbacks(execute=True):
        output = run("sms_reprocess")

    for message in (failed, stale, fresh, done):
        message.refresh_from_db()
    assert (failed.status, stale.status) == (InboundStatus.PROCESSED, InboundStatus.PROCESSED)
    assert (fresh.status, done.status) == (InboundStatus.RECEIVED, InboundStatus.PROCESSED)
    assert output.endswith("2 messages reprocessed.\n")
    assert sorted(t.to for t in outbox) == ["+8613800000001", "+8613800000002"]


def test_sms_reprocess_of_named_messages(people):
    first = InboundMessage.objects.create(provider_id="SM1", sender="+8613800000001", body="STATUS",
                                          status=InboundStatus.FAILED)
    second = InboundMessage.objects.create(provider_id="SM2", sender="+8613800000001", body="STATUS",
                                           status=InboundStatus.FAILED)

    run("sms_reprocess", str(second.pk))

    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == (InboundStatus.FAILED, InboundStatus.PROCESSED)
