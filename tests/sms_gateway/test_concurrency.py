"""Real concurrency (PostgreSQL): the same VIN texted by two reps at once, and Twilio delivering
one message twice at once, each give one sale; a SHIP being handled holds its order, not its rep."""

import threading

import pytest
from django.db import close_old_connections

from backend.reports import demo
from backend.sales.models import Sale
from sms_gateway.inbound import Text, receive_and_process
from sms_gateway.models import InboundMessage, InboundStatus

VIN = "LFV3A28K5L3012345"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(calls: list[dict]) -> list[str | None]:
    barrier = threading.Barrier(len(calls))
    replies: list[str | None] = [None] * len(calls)

    def text(index: int, fields: dict) -> None:
        barrier.wait()
        try:
            replies[index] = receive_and_process(
                Text("twilio", fields["provider_id"], fields["sender"], "+15005550006", fields["body"])
            )
        finally:
            close_old_connections()

    threads = [threading.Thread(target=text, args=(i, fields)) for i, fields in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


def test_one_vin_texted_by_two_reps_at_once_is_one_sale():
    demo.seed()
    senders = ["+8613800000001", "+8613800000002"] * 4

    replies = at_once([
        {"provider_id": f"SM{i}", "sender": sender, "body": f"SOLD CS75 {VIN}"} for i, sender in enumerate(senders)
    ])

    [sale] = Sale.objects.filter(serial=VIN, voided_at__isnull=True)
    assert sum(reply.startswith(f"{sale.reference}: 1 CS75 recorded") for reply in replies) == 1
    assert sum(reply == f"{VIN} was already reported ({sale.reference})." for reply in replies) == len(senders) - 1
    assert InboundMessage.objects.filter(status=InboundStatus.REJECTED, error="serial_taken").count() == 7


def test_one_message_delivered_twice_at_once_is_handled_once():
    demo.seed()

    replies = at_once([{"provider_id": "SMsame", "sender": "+8613800000001", "body": "SOLD BCD470 2"}] * 6)

    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.PROCESSED
    assert Sale.objects.filter(reference=message.reference).count() == 2
    assert message.reply in replies and all(reply in (None, message.reply) for reply in replies)


def test_a_shipment_being_recorded_locks_its_order_and_not_the_orders_rep():
    from django.db import OperationalError, connections, transaction

    from backend.sales.models import Order
    from backend.sales.services import ShipmentRequest, _orders_to_ship

    demo.seed()
    order = Order.objects.get(number="PO-1001")
    with transaction.atomic():
        _orders_to_ship([ShipmentRequest(actor=order.rep, order_number="PO-1001")])
        other = connections.create_connection("default")  # another process's connection
        try:
            with other.cursor() as cursor:
                # What a foreign-key check of a new sale by this rep takes: it must not wait for the shipment.
                cursor.execute("SELECT 1 FROM org_user WHERE id = %s FOR KEY SHARE NOWAIT", [order.rep_id])
                with pytest.raises(OperationalError) as held:
                    cursor.execute("SELECT 1 FROM sales_order WHERE id = %s FOR UPDATE NOWAIT", [order.pk])
                assert held.value.__cause__.sqlstate == "55P03"  # lock_not_available
        finally:
            other.close()
