"""The outbound queue: stored with the change, sent after commit, retried with backoff, never twice."""

import socket
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.notifications import presence
from backend.notifications.services import Notice, notify, notify_many, user_group
from sms_gateway import tasks
from sms_gateway.models import InboundMessage, InboundStatus, OptOut, OutboundMessage, OutboundStatus
from sms_gateway.optouts import optout_set
from sms_gateway.outbound import MAX_ATTEMPTS, Outgoing, backoff_seconds, deliver, queue_many, queue_sms, read_queued
from sms_gateway.segments import count
from tests.factories import RepFactory

pytestmark = pytest.mark.django_db

TO = "+8613800000001"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block's on-commit callbacks, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def queue(**kwargs) -> OutboundMessage:
    kwargs = {"to": TO, "body": "PO-1001 shipped", "kind": "shipment", **kwargs}
    return queue_sms(**kwargs)


def crashed_before_hand_off(age: timedelta = timedelta(minutes=5), **kwargs) -> OutboundMessage:
    """A row committed by a process that died before its on-commit hand-off ran."""
    message = queue(**kwargs)
    OutboundMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - age)
    return message


# ---------------------------------------------------------------- the queue


def test_stored_in_the_transaction_and_sent_after_commit(outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        message = queue()
        assert OutboundMessage.objects.get(pk=message.pk).status == OutboundStatus.QUEUED
        assert outbox == []  # nothing leaves before the change is committed

    assert len(callbacks) == 1
    message.refresh_from_db()
    [sent] = outbox
    assert (sent.to, sent.body) == (TO, "PO-1001 shipped")
    assert (message.status, message.provider, message.provider_sid, message.attempts) == (
        OutboundStatus.SENT, "locmem", sent.sid, 1)


def test_a_rolled_back_change_texts_nothing(outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), \
            transaction.atomic():
        queue()
        raise RuntimeError("the shipment was not saved")

    assert callbacks == [] and outbox == [] and not OutboundMessage.objects.exists()


def test_notify_texts_an_offline_person_through_the_queue(outbox, committed):
    rep = RepFactory(phone=TO)

    with committed():
        notification = notify(recipient=rep, kind="alert", text="Wuhan Motors bought less for 3 months")

    message = OutboundMessage.objects.get()
    assert (message.user, message.kind, message.related, message.is_reply) == (rep, "alert", notification, False)
    assert [t.body for t in outbox] == ["Wuhan Motors bought less for 3 months"]


def test_notify_does_not_text_someone_with_the_app_open(outbox, committed):
    rep = RepFactory(phone=TO)
    presence.mark_online(rep.pk)
    try:
        with committed():
            notify(recipient=rep, kind="alert", text="hello")
    finally:
        presence.mark_offline(rep.pk)

    assert outbox == [] and not OutboundMessage.objects.exists()


def test_notices_for_several_people_are_stored_texted_and_pushed_together(outbox, committed, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    first, second, quiet = RepFactory(phone=TO), RepFactory(phone="+8613800000002"), RepFactory(phone="+8613800000003")
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(second.pk), channel)
    notices = [Notice(first, "shipment", "PO-1 shipped", sms=True),
               Notice(second, "shipment", "PO-2 shipped", sms=True),
               Notice(quiet, "alert", "in the inbox only", sms=False)]

    with committed(), CaptureQueriesContext(connection) as queries:
        notifications = notify_many(notices)

    # one statement each for the notices, the opt-outs and the texts, whatever their number
    tables = ("notifications_notification", "sms_gateway_optout", "sms_gateway_outboundmessage")
    assert [next(t for t in tables if t in q["sql"]) for q in queries.captured_queries
            if any(t in q["sql"] for t in tables)] == list(tables)
    assert [(n.recipient, n.text) for n in notifications] == [(first, "PO-1 shipped"), (second, "PO-2 shipped"),
                                                               (quiet, "in the inbox only")]
    assert sorted((t.to, t.body) for t in outbox) == [(TO, "PO-1 shipped"), ("+8613800000002", "PO-2 shipped")]
    pushed = async_to_sync(layer.receive)(channel)
    assert pushed["event"]["id"] == str(notifications[1].pk)


def test_a_batch_of_texts_suppresses_only_the_opted_out_numbers_and_never_a_reply(outbox, committed):
    optout_set(phone=TO, active=True, source="keyword")

    with committed():
        rows = queue_many([Outgoing(TO, "digest", "digest"), Outgoing(TO, "S1: recorded", "reply", is_reply=True),
                           Outgoing("+8613800000002", "PO-1 shipped", "shipment")])

    assert [OutboundMessage.objects.get(pk=row.pk).status for row in rows] == [
        OutboundStatus.SUPPRESSED, OutboundStatus.SENT, OutboundStatus.SENT]
    assert sorted(t.body for t in outbox) == ["PO-1 shipped", "S1: recorded"]


def test_long_notices_are_cut_to_ten_segments_and_replies_to_two():
    notice = queue(body="word " * 400)
    reply = queue(body="word " * 400, is_reply=True)

    assert (notice.segments, count(notice.body).segments) == (10, 10)
    assert (reply.segments, count(reply.body).segments) == (2, 2) and reply.body.endswith("...")


def test_an_opted_out_number_gets_a_suppressed_row_but_still_its_replies(outbox, committed):
    optout_set(phone=TO, active=True, source="keyword")

    with committed():
        alert = queue(kind="digest")
        reply = queue(kind="reply", is_reply=True)

    alert.refresh_from_db(), reply.refresh_from_db()
    assert (alert.status, reply.status) == (OutboundStatus.SUPPRESSED, OutboundStatus.SENT)
    assert [t.body for t in outbox] == [reply.body]


def test_an_opt_out_after_queueing_is_honoured_at_send_time(outbox):
    message = queue()
    optout_set(phone=TO, active=True, source="keyword")

    assert deliver(message.pk) is None

    message.refresh_from_db()
    assert message.status == OutboundStatus.SUPPRESSED and outbox == []


def test_texts_queued_together_go_to_the_worker_ten_a_task_and_each_is_sent_once(outbox, committed, monkeypatch):
    handed = []

    def hand(ids):
        handed.append(ids)
        tasks.send_outbound_many(ids)

    monkeypatch.setattr(tasks.send_outbound_many, "delay", hand)

    with committed():
        queue_many([Outgoing(f"+86138000001{n:02d}", f"PO-{n} shipped", "shipment") for n in range(12)])

    assert [len(ids) for ids in handed] == [10, 2]
    assert len(outbox) == 12 and set(OutboundMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_a_text_that_breaks_its_send_costs_only_itself(outbox, committed, monkeypatch):
    with committed():
        first, broken, last = (queue(to=f"+861380000000{n}") for n in range(3))
    outbox.clear()
    OutboundMessage.objects.update(status=OutboundStatus.QUEUED)
    real_deliver = tasks.outbound.deliver

    def deliver_or_break(message_id, **kwargs):
        if message_id == broken.pk:
            raise RuntimeError("disk on fire")
        return real_deliver(message_id, **kwargs)

    monkeypatch.setattr(tasks.outbound, "deliver", deliver_or_break)

    tasks.send_outbound_many([first.pk, broken.pk, last.pk])

    assert sorted(sent.to for sent in outbox) == [first.to, last.to]
    assert OutboundMessage.objects.get(pk=broken.pk).status == OutboundStatus.QUEUED  # the sweeper's


# ---------------------------------------------------------------- retries, through the real twilio client


def test_5xx_is_retried_until_it_goes_through_once(fake_twilio, committed):
    fake_twilio.fail_next(2, status=500)

    with committed():
        message = queue()

    message.refresh_from_db()
    [sent] = fake_twilio.messages
    assert fake_twilio.attempts == 3
    assert (message.status, message.attempts, message.provider_sid) == (OutboundStatus.SENT, 3, sent.sid)
    assert message.provider_status == "queued"


def test_429_waits_at_least_retry_after(fake_twilio):
    fake_twilio.fail_next(1, status=429, retry_after=90)
    message = queue()

    later = deliver(message.pk)

    message.refresh_from_db()
    assert later.countdown == 90
    assert (message.status, message.attempts, message.error_code) == (OutboundStatus.QUEUED, 1, "20429")
    assert timedelta(seconds=85) < message.next_attempt_at - timezone.now() <= timedelta(seconds=90)
    assert deliver(message.pk) is None  # the next attempt goes through
    message.refresh_from_db()
    assert message.status == OutboundStatus.SENT and len(fake_twilio.messages) == 1


def test_a_network_error_is_retried_with_backoff(fake_twilio, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{closed.getsockname()[1]}"
    message = queue()

    later = deliver(message.pk)

    message.refresh_from_db()
    assert later.countdown == 30
    assert (message.status, message.error_code) == (OutboundStatus.QUEUED, "network")


def test_backoff_doubles_is_capped_and_respects_retry_after():
    assert [backoff_seconds(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert backoff_seconds(1, retry_after=90) == 90
    assert backoff_seconds(3, retry_after=5) == 120


def test_it_gives_up_after_max_attempts(fake_twilio, committed):
    fake_twilio.fail_next(MAX_ATTEMPTS + 2, status=503)

    with committed():
        message = queue()

    message.refresh_from_db()
    assert (message.status, message.attempts, fake_twilio.attempts) == (
        OutboundStatus.FAILED, MAX_ATTEMPTS, MAX_ATTEMPTS)
    assert message.error.startswith(f"gave up after {MAX_ATTEMPTS} attempts") and fake_twilio.messages == []


def test_an_invalid_number_is_not_retried(fake_twilio, committed):
    fake_twilio.reject_numbers({TO: 21211})

    with committed():
        message = queue()

    message.refresh_from_db()
    assert (message.status, message.error_code, fake_twilio.attempts) == (OutboundStatus.FAILED, "21211", 1)


def test_an_unsubscribed_recipient_is_not_retried_and_is_opted_out(fake_twilio, committed):
    fake_twilio.reject_numbers({TO: 21610})

    with committed():
        message = queue()

    message.refresh_from_db()
    assert (message.status, message.error_code, fake_twilio.attempts) == (OutboundStatus.FAILED, "21610", 1)
    assert OptOut.objects.get(phone=TO).source == "twilio 21610"
    assert queue(kind="digest").status == OutboundStatus.SUPPRESSED


# ---------------------------------------------------------------- never twice, and the sweeper


def test_a_requeued_row_that_was_sent_is_not_sent_again(fake_twilio, committed):
    with committed():
        message = queue()

    tasks.send_outbound.delay(message.pk)
    assert deliver(message.pk) is None

    assert len(fake_twilio.messages) == 1 and fake_twilio.attempts == 1


def _one_task_of_two(outbox, committed, monkeypatch, first: dict, second: dict, wrap) -> tuple:
    """Two committed texts, queued again and sent by one task, whose `deliver` is `wrap(first,
    second, real_deliver)`: what happens between the task's read of its rows and its sends."""
    with committed():
        rows = queue(**first), queue(**second)
    outbox.clear()
    OutboundMessage.objects.update(status=OutboundStatus.QUEUED)
    monkeypatch.setattr(tasks.outbound, "deliver", wrap(*rows, tasks.outbound.deliver))
    tasks.send_outbound_many([row.pk for row in rows])
    return rows


def test_a_text_of_a_task_someone_else_claimed_meanwhile_is_not_sent_again(outbox, committed, monkeypatch):
    def another_worker_takes_the_second(first, second, real_deliver):
        def deliver(message_id, **kwargs):
            if message_id == first.pk:  # the task has read both rows; another worker claims the second now
                assert real_deliver(second.pk) is None
            return real_deliver(message_id, **kwargs)
        return deliver

    first, second = _one_task_of_two(outbox, committed, monkeypatch, {"to": "+8613800000001"},
                                     {"to": "+8613800000002"}, another_worker_takes_the_second)

    assert sorted(sent.to for sent in outbox) == [first.to, second.to]  # each once
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {OutboundStatus.SENT}


def test_a_stop_that_comes_in_while_a_task_sends_stops_its_later_texts(outbox, committed, monkeypatch):
    def stop_after_the_first(first, second, real_deliver):
        def deliver(message_id, **kwargs):
            later = real_deliver(message_id, **kwargs)
            if message_id == first.pk:  # the task read both rows before this STOP
                optout_set(phone=TO, active=True, source="keyword")
            return later
        return deliver

    first, second = _one_task_of_two(outbox, committed, monkeypatch, {"body": "PO-1 shipped"},
                                     {"body": "PO-2 shipped"}, stop_after_the_first)

    assert [sent.body for sent in outbox] == ["PO-1 shipped"]
    assert OutboundMessage.objects.get(pk=second.pk).status == OutboundStatus.SUPPRESSED


def test_an_attempt_made_since_a_task_read_its_text_counts_towards_giving_up(fake_twilio, monkeypatch):
    message = queue()  # not handed over: the task below is the one that sends it
    OutboundMessage.objects.filter(pk=message.pk).update(attempts=MAX_ATTEMPTS - 2)
    fake_twilio.fail_next(1, status=503)
    real_deliver = tasks.outbound.deliver

    def another_worker_tried_it_first(message_id, **kwargs):
        # After the task read the row: another attempt failed and put it back in the queue.
        OutboundMessage.objects.filter(pk=message_id).update(attempts=MAX_ATTEMPTS - 1)
        return real_deliver(message_id, **kwargs)

    monkeypatch.setattr(tasks.outbound, "deliver", another_worker_tried_it_first)

    tasks.send_outbound_many([message.pk])

    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboundStatus.FAILED, MAX_ATTEMPTS)
    assert message.error.startswith(f"gave up after {MAX_ATTEMPTS} attempts")


def test_a_text_to_a_number_that_texted_start_again_goes_at_the_first_claim(outbox):
    optout_set(phone=TO, active=True, source="keyword")
    optout_set(phone=TO, active=False, source="keyword")  # START
    message = queue()  # not handed over: sent below as its task would
    read = read_queued([message.pk])[message.pk]

    with CaptureQueriesContext(connection) as queries:
        deliver(message.pk, read=read)

    assert [sent.to for sent in outbox] == [TO]
    assert OutboundMessage.objects.get(pk=message.pk).status == OutboundStatus.SENT
    assert not [query for query in queries if query["sql"].startswith("SELECT")]  # the row was not read again


def test_the_sweeper_sends_what_a_crash_left_between_commit_and_worker(outbox):
    message = crashed_before_hand_off()
    fresh = queue()  # its own hand-off is still on the way: not the sweeper's

    assert tasks.sweep() == {"outbound": 1, "inbound": 0}
    assert tasks.sweep() == {"outbound": 0, "inbound": 0}

    message.refresh_from_db(), fresh.refresh_from_db()
    assert (message.status, fresh.status) == (OutboundStatus.SENT, OutboundStatus.QUEUED)
    assert [t.to for t in outbox] == [TO]


def test_the_sweeper_waits_for_the_backoff(outbox):
    message = crashed_before_hand_off()
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))

    assert tasks.sweep()["outbound"] == 0 and outbox == []


def test_the_sweeper_revives_a_row_whose_worker_died_mid_send(outbox):
    message = crashed_before_hand_off(age=timedelta(hours=1))
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=OutboundStatus.SENDING, sending_since=timezone.now() - tasks.SENDING_STALE - timedelta(seconds=1)
    )
    busy = crashed_before_hand_off(age=timedelta(hours=1))
    OutboundMessage.objects.filter(pk=busy.pk).update(status=OutboundStatus.SENDING, sending_since=timezone.now())

    tasks.sweep()

    message.refresh_from_db(), busy.refresh_from_db()
    assert (message.status, busy.status) == (OutboundStatus.SENT, OutboundStatus.SENDING)
    assert len(outbox) == 1


def test_the_sweeper_processes_an_inbound_text_a_crash_left_received(outbox, committed):
    rep = RepFactory(phone=TO)
    stale = InboundMessage.objects.create(
        provider_id="SMstale", sender=TO, body="STATUS", received_at=timezone.now() - timedelta(minutes=5)
    )
    InboundMessage.objects.create(provider_id="SMfresh", sender=TO, body="STATUS")  # being handled right now

    with committed():
        assert tasks.sweep() == {"outbound": 0, "inbound": 1}

    stale.refresh_from_db()
    assert (stale.status, stale.user) == (InboundStatus.PROCESSED, rep)
    # The webhook that received it is long gone: the reply goes through the queue.
    [sent] = outbox
    assert sent.to == TO and sent.body == stale.reply and sent.body.startswith("Today: 0 sold")
    assert OutboundMessage.objects.get(in_reply_to=stale).is_reply
