"""Texts that arrive together are handled together: each gets the reply and the records it
would get alone, a sender's texts keep their order, and one bad text costs only itself."""

import logging
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.core.logging import RequestIdFilter, request_id_set
from backend.sales.models import Order, OrderStatus, Sale, SerialRule, Shipment
from sms_gateway import inbound
from sms_gateway.batching import Batcher, _Waiting
from sms_gateway.commands import BATCH_HANDLERS, sold
from sms_gateway.language import Sold
from sms_gateway.models import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus
from tests.factories import (
    CustomerFactory,
    LogisticsFactory,
    OrderFactory,
    ProductFactory,
    RepFactory,
    RewardRuleFactory,
)

VIN = "LFV3A28K5L3012345"


@pytest.fixture
def world(db):
    RewardRuleFactory(product=ProductFactory(code="BCD470"))
    RewardRuleFactory(product=ProductFactory(code="CS75", serial_rule=SerialRule.VIN))
    ann = RepFactory(phone="+8613800000011", preferred_language="en")
    bo = RepFactory(phone="+8613800000012", preferred_language="zh-hans")
    wms = LogisticsFactory(phone="+8613600000001")
    order = OrderFactory(number="PO-7001", customer=CustomerFactory(owner=ann), status=OrderStatus.CONFIRMED)
    return {"ann": ann, "bo": bo, "wms": wms, "order": order}


def handle_together(*texts: tuple[str, str]) -> list[str | None]:
    """Store the (sender, body) texts, then handle them as one batch, as the batch thread does."""
    stored = inbound.receive_many([
        inbound.Text("twilio", f"SM{n:04d}{timezone.now().timestamp()}", sender, "+15005550006", body)
        for n, (sender, body) in enumerate(texts)
    ])
    replies = inbound.process_many([message.pk for message, _ in stored], inline=True)
    return [replies[message.pk] for message, _ in stored]


def test_a_mixed_batch_gets_the_replies_and_records_each_text_gets_alone(world):
    ann, bo, wms = world["ann"], world["bo"], world["wms"]

    replies = handle_together(
        (ann.phone, "SOLD BCD470 2"), (bo.phone, "SOLD CS75 " + VIN), (wms.phone, "SHIP PO-7001 SF SF123 ETA +2"),
        ("+8613999999999", "STATUS"), (bo.phone, "STATUS"), (ann.phone, "HELP"),
    )

    ann_sales = Sale.objects.filter(rep=ann).order_by("pk")
    assert ann_sales.count() == 2 and Sale.objects.get(rep=bo).serial == VIN
    reference = ann_sales[0].reference
    assert replies[0] == (f"{reference}: 2 BCD470 recorded, reward 2 x 20 = 40 (pending approval). "
                          "Today: 2 sold, reward 40.")
    # Bo prefers Chinese but wrote English keywords: the reply follows the text.
    assert replies[1].startswith(Sale.objects.get(rep=bo).reference + ": 1 CS75 recorded")
    shipment = Shipment.objects.get(order=world["order"])
    assert replies[2].startswith(f"{shipment.reference}: PO-7001 shipped.")
    assert Order.objects.get(pk=world["order"].pk).status == OrderStatus.SHIPPED
    assert "not registered" in replies[3]
    assert replies[4].startswith("Today: 1 sold")  # Bo's STATUS, after Bo's SOLD of the same batch
    assert replies[5].startswith("SMS commands:")
    # History as a save would write it: the door, and each rep as the person behind their rows.
    history = Sale.history.filter(serial=VIN).get()
    assert (history.history_door, history.history_user) == ("sms", bo)
    assert Shipment.history.get().history_user == wms
    shipped = Order.history.filter(id=world["order"].pk).latest()
    assert (shipped.status, shipped.history_type, shipped.history_door, shipped.history_user) == (
        OrderStatus.SHIPPED, "~", "sms", wms)
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"processed", "rejected"}
    assert OutboundMessage.objects.filter(kind="reply", status=OutboundStatus.SENT_INLINE).count() == 6
    # The rep of the order is texted through the queue.
    assert OutboundMessage.objects.filter(kind="shipment", to=ann.phone, status=OutboundStatus.QUEUED).exists()


def test_an_order_shipped_in_a_batch_names_who_shipped_it_in_its_history(world):
    handle_together((world["ann"].phone, "STATUS"), (world["wms"].phone, "SHIP PO-7001 SF SF123"))

    shipped = Order.history.filter(id=world["order"].pk, status=OrderStatus.SHIPPED).get()
    assert (shipped.history_door, shipped.history_user) == ("sms", world["wms"])


def test_a_senders_texts_keep_their_order_within_a_batch(world):
    ann = world["ann"]

    replies = handle_together((ann.phone, "SOLD BCD470"), (ann.phone, "UNDO"), (ann.phone, "STATUS"))

    assert Sale.objects.get(rep=ann).voided_at is not None
    assert "voided" in replies[1].lower() or "undone" in replies[1].lower()
    assert replies[2].startswith("Today: 0 sold")


def test_a_vin_sent_twice_in_one_batch_is_recorded_once_and_the_second_told_whose_it_is(world):
    ann, bo = world["ann"], world["bo"]

    replies = handle_together((ann.phone, "SOLD CS75 " + VIN), (bo.phone, "SOLD CS75 " + VIN))

    sale = Sale.objects.get(serial=VIN)
    assert sale.rep == ann
    assert sale.reference in replies[1] and VIN in replies[1]
    assert InboundMessage.objects.get(body__startswith="SOLD", user=bo).error == "serial_taken"


def test_one_crashing_text_fails_alone_and_the_rest_of_its_batch_is_handled(world, monkeypatch):
    ann, bo = world["ann"], world["bo"]

    def crash_on_cs75(texts):
        if any(command.product == "CS75" for command, _ in texts):
            raise RuntimeError("disk on fire")
        return sold.handle_many(texts)

    monkeypatch.setitem(BATCH_HANDLERS, Sold, crash_on_cs75)

    replies = handle_together((ann.phone, "SOLD BCD470"), (bo.phone, "SOLD CS75 " + VIN))

    assert Sale.objects.filter(rep=ann).count() == 1 and not Sale.objects.filter(rep=bo).exists()
    assert replies[0].startswith(Sale.objects.get(rep=ann).reference)
    failed = InboundMessage.objects.get(sender=bo.phone)
    assert failed.status == InboundStatus.FAILED and "disk on fire" in failed.error
    assert replies[1] == "抱歉，您的短信暂时无法处理；短信已保存，稍后处理。"  # Bo reads Chinese


def test_a_webhook_that_gave_up_waiting_stores_its_text_and_gets_its_reply_through_the_queue(world, settings):
    settings.SMS_INBOUND_BATCH, settings.SMS_INBOUND_WAIT_SECONDS = 8, 0.05
    batcher = Batcher()
    batcher._start = lambda: None  # no batch thread: the text waits until the webhook gives up

    answer = batcher.process(inbound.Text("twilio", "SMlate", world["ann"].phone, "", "STATUS"))

    assert answer is None  # an empty TwiML answer
    message = InboundMessage.objects.get(provider_id="SMlate")
    assert message.status == InboundStatus.PROCESSED  # by the worker (eager in tests)
    reply = OutboundMessage.objects.get(in_reply_to=message)
    assert reply.status == OutboundStatus.QUEUED and reply.body.startswith("Today: 0 sold")
    # The batch that finally takes it finds it given up and stores nothing twice.
    batcher._handle_claimed([batcher._queue.get_nowait()])
    assert InboundMessage.objects.filter(provider_id="SMlate").count() == 1


def test_a_text_given_twice_in_one_batch_is_handled_once_and_both_get_its_reply(world):
    text = inbound.Text("twilio", "SMtwice", world["ann"].phone, "", "SOLD BCD470")
    first, again = _Waiting(text), _Waiting(text)

    Batcher()._handle_claimed([first, again])

    assert Sale.objects.filter(rep=world["ann"]).count() == 1
    assert first.reply == again.reply and first.reply.startswith(Sale.objects.get().reference)


@pytest.mark.django_db(transaction=True)
def test_concurrent_webhooks_are_stored_and_answered_by_the_batch_thread(world, settings):
    settings.SMS_INBOUND_BATCH = 8
    reps = [RepFactory() for _ in range(6)]
    texts = [inbound.Text("twilio", f"SMc{n}", rep.phone, "", "SOLD BCD470") for n, rep in enumerate(reps)]
    batcher, replies = Batcher(), {}

    def webhook(text: inbound.Text) -> None:
        replies[text.provider_id] = batcher.process(text)

    threads = [threading.Thread(target=webhook, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    for text in texts:
        message = InboundMessage.objects.get(provider_id=text.provider_id)
        assert message.status == InboundStatus.PROCESSED
        assert replies[text.provider_id] == message.reply and message.reply.startswith(message.reference)
    assert Sale.objects.count() == 6


def _waiting_in_request(request_id: str, sid: str, sender: str, body: str) -> _Waiting:
    with request_id_set(request_id):  # each webhook hands its text over in its own request
        return _Waiting(inbound.Text("twilio", sid, sender, "", body))


def _status_lines(caplog, row) -> dict[str, str]:
    """The request id of each status line logged about `row`."""
    return {record.status: record.request_id for record in caplog.records
            if getattr(record, "object", None) == row._meta.label and record.pk == str(row.pk)}


@pytest.mark.django_db(transaction=True)  # committed, so the notice is sent from within the batch
def test_each_text_of_a_batch_logs_under_its_webhooks_request_id_and_the_batch_under_its_own(world, caplog):
    ann, wms = world["ann"], world["wms"]
    webhooks = {"req-ann-0001": (ann.phone, "SOLD BCD470"), "req-wms-0001": (wms.phone, "SHIP PO-7001 SF SF1 ETA +2")}
    waiting = [_waiting_in_request(request_id, f"SM{request_id}", *text) for request_id, text in webhooks.items()]
    caplog.handler.addFilter(RequestIdFilter())  # as the log handlers do, when the line is written

    with caplog.at_level(logging.INFO):
        Batcher()._handle_claimed(waiting)

    [batch_line] = [record for record in caplog.records if record.getMessage() == "Texts handled together: 2"]
    batch_id = batch_line.request_id
    assert batch_id not in {*webhooks, "-"}
    texts = {message.provider_id: message for message in InboundMessage.objects.all()}
    assert batch_line.requests == {request_id: texts[f"SM{request_id}"].pk for request_id in webhooks}
    for request_id in webhooks:
        text = texts[f"SM{request_id}"]
        assert _status_lines(caplog, text) == {"received": request_id, "processed": request_id}
        assert _status_lines(caplog, OutboundMessage.objects.get(in_reply_to=text)) == {"sent_inline": request_id}
    # The rep's notice of the shipment is the batch's work, and so is its send.
    notice = OutboundMessage.objects.get(kind="shipment")
    assert _status_lines(caplog, notice) == {"queued": batch_id, "sending": batch_id, "sent": batch_id}


def test_a_text_given_twice_in_one_batch_logs_under_the_webhook_whose_text_was_stored(world, caplog):
    first, again = (_waiting_in_request(request_id, "SMtwice", world["ann"].phone, "STATUS")
                    for request_id in ("req-first-01", "req-again-01"))
    caplog.handler.addFilter(RequestIdFilter())

    with caplog.at_level(logging.INFO):
        Batcher()._handle_claimed([first, again])

    text = InboundMessage.objects.get()
    assert _status_lines(caplog, text) == {"received": "req-first-01", "processed": "req-first-01"}
    [batch_line] = [record for record in caplog.records if record.getMessage() == "Texts handled together: 2"]
    assert batch_line.requests == {"req-first-01": text.pk, "req-again-01": text.pk}


def test_a_text_the_database_refuses_fails_its_own_webhook_and_no_other(world, monkeypatch):
    from django.db import DataError

    from sms_gateway import batching

    def refuse_the_bad_one(texts):
        if any(text.provider_id == "SMbad" for text in texts):
            raise DataError("value too long")
        return inbound.receive_many(texts)

    monkeypatch.setattr(batching, "receive_many", refuse_the_bad_one)
    good, bad = (_Waiting(inbound.Text("twilio", sid, world["ann"].phone, "", "STATUS")) for sid in ("SMgood", "SMbad"))

    Batcher()._handle_claimed([good, bad])

    assert good.reply.startswith("Today: 0 sold") and good.error is None
    assert isinstance(bad.error, DataError)
    assert list(InboundMessage.objects.values_list("provider_id", "status")) == [("SMgood", "processed")]


def _waiting_text(n: int) -> _Waiting:
    return _Waiting(inbound.Text("twilio", f"SMq{n}", "+8613800000011", "", "STATUS"))


def test_a_batch_waits_for_as_many_texts_as_it_expects(settings):
    settings.SMS_INBOUND_BATCH, settings.SMS_INBOUND_LINGER_SECONDS = 64, 30
    batcher = Batcher()
    batcher._queue.put(_waiting_text(0))
    late = threading.Timer(0.05, lambda: [batcher._queue.put(_waiting_text(n)) for n in (1, 2)])
    late.start()

    batch = batcher._gather(expected=3)

    late.join()
    assert [waiting.text.provider_id for waiting in batch] == ["SMq0", "SMq1", "SMq2"]


def test_a_batch_waits_no_longer_than_the_linger_and_takes_all_that_is_there(settings):
    settings.SMS_INBOUND_BATCH, settings.SMS_INBOUND_LINGER_SECONDS = 4, 0.05
    batcher = Batcher()
    batcher._queue.put(_waiting_text(0))

    assert len(batcher._gather(expected=5)) == 1  # the others never came: it went on alone

    for n in range(6):
        batcher._queue.put(_waiting_text(n))
    assert len(batcher._gather(expected=1)) == 4  # all that waited, up to SMS_INBOUND_BATCH
    assert len(batcher._gather(expected=1)) == 2


def test_a_stored_text_someone_else_finished_meanwhile_keeps_their_reply_and_is_not_handled_again(world):
    ann, bo = world["ann"], world["bo"]
    texts = [inbound.Text("twilio", sid, rep.phone, "", "SOLD BCD470") for sid, rep in (("SMa", ann), ("SMb", bo))]
    stored = inbound.receive_many(texts)
    # The sweeper's worker got to Ann's text first.
    InboundMessage.objects.filter(provider_id="SMa").update(status=InboundStatus.PROCESSED, reply="handled elsewhere")

    replies = inbound.answers(stored)

    assert replies[0] == "handled elsewhere"
    assert not Sale.objects.filter(rep=ann).exists()
    assert replies[1].startswith(Sale.objects.get(rep=bo).reference)


def test_after_a_batch_the_thread_waits_for_the_senders_it_answered(settings):
    settings.SMS_INBOUND_BATCH, settings.SMS_INBOUND_LINGER_SECONDS = 64, 30
    batcher, sizes, handled = Batcher(), [], threading.Semaphore(0)
    batcher._handle = lambda batch: (sizes.append(len(batch)), handled.release())
    for n in range(3):
        batcher._queue.put(_waiting_text(n))
    batcher._start()
    assert handled.acquire(timeout=30)

    batcher._queue.put(_waiting_text(3))  # the first of the three answered texts again…
    threading.Timer(0.05, lambda: [batcher._queue.put(_waiting_text(n)) for n in (4, 5)]).start()
    assert handled.acquire(timeout=30)

    assert sizes == [3, 3]  # …and the second batch waited for the other two


@pytest.mark.parametrize("chunk", [inbound.RATE_CHUNK, 5], ids=["one statement", "counted in chunks"])
def test_a_batch_limits_the_texts_of_a_flooding_sender_and_no_other(world, monkeypatch, chunk):
    monkeypatch.setattr(inbound, "RATE_CHUNK", chunk)
    ann, bo = world["ann"], world["bo"]

    replies = handle_together(*[(ann.phone, "STATUS")] * (inbound.RATE_LIMIT + 2), (bo.phone, "STATUS"))

    assert all(reply.startswith("Today:") for reply in replies[:inbound.RATE_LIMIT])
    assert replies[inbound.RATE_LIMIT].startswith("Too many texts from this number")
    assert replies[inbound.RATE_LIMIT + 1] is None
    assert replies[-1].startswith("Today:")
    limited = InboundMessage.objects.filter(error=inbound.RATE_LIMITED)
    assert set(limited.values_list("sender", flat=True)) == {ann.phone} and limited.count() == 2


def test_texts_older_than_the_rate_window_do_not_count(world):
    ann = world["ann"]
    handle_together(*[(ann.phone, "STATUS")] * inbound.RATE_LIMIT)
    InboundMessage.objects.update(received_at=timezone.now() - inbound.RATE_WINDOW - timedelta(seconds=1))

    [reply] = handle_together((ann.phone, "STATUS"))

    assert reply.startswith("Today:")
    assert not InboundMessage.objects.filter(error=inbound.RATE_LIMITED).exists()
