"""`update_row`: a conditional write of one row, written out as SQL, and the opt-out condition written for it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.core.queries import update_row
from backend.sales.models import Order, OrderStatus
from sms_gateway.models import OptOut, OutboundMessage
from sms_gateway.optouts import not_opted_out_sql
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_a_row_whose_fields_hold_the_values_asked_for_is_written():
    order = OrderFactory(status=OrderStatus.CONFIRMED)
    when = timezone.now() - timedelta(days=2)

    changed = update_row(Order, order.pk, {"status": OrderStatus.SHIPPED, "updated_at": when},
                         where={"status": OrderStatus.CONFIRMED})

    order.refresh_from_db()
    assert changed == 1
    assert (order.status, order.updated_at) == (OrderStatus.SHIPPED, when)


def test_a_row_that_changed_meanwhile_is_left_as_it_is():
    order = OrderFactory(status=OrderStatus.SHIPPED)

    changed = update_row(Order, order.pk, {"status": OrderStatus.CANCELLED}, where={"status": OrderStatus.CONFIRMED})

    assert changed == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


def test_a_condition_in_sql_must_hold_too():
    order = OrderFactory(status=OrderStatus.CONFIRMED)

    held = update_row(Order, order.pk, {"status": OrderStatus.SHIPPED}, where={}, condition="1 = 0")

    assert held == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED


def test_only_the_row_named_is_written():
    order, other = OrderFactory(status=OrderStatus.CONFIRMED), OrderFactory(status=OrderStatus.CONFIRMED)

    update_row(Order, order.pk, {"status": OrderStatus.SHIPPED}, where={"status": OrderStatus.CONFIRMED})

    assert Order.objects.get(pk=other.pk).status == OrderStatus.CONFIRMED


def test_nulls_booleans_and_times_are_written_and_matched_as_the_orm_would():
    message = OutboundMessage.objects.create(to="+8613800000001", body="PO-1 shipped", kind="shipment",
                                             next_attempt_at=timezone.now())
    when = timezone.now() - timedelta(minutes=5)

    values = {"is_reply": True, "sending_since": when, "next_attempt_at": None}

    changed = update_row(OutboundMessage, message.pk, values, where={"provider_sid": None, "is_reply": False})

    message.refresh_from_db()
    assert changed == 1
    assert (message.is_reply, message.sending_since, message.next_attempt_at) == (True, when, None)
    assert update_row(OutboundMessage, message.pk, {"is_reply": False}, where={"next_attempt_at": when}) == 0


def test_a_condition_may_name_the_table_of_the_row():
    message = OutboundMessage.objects.create(to="+8613800000001", body="PO-1 shipped", kind="shipment")
    OptOut.objects.create(phone=message.to, is_active=True, source="keyword")

    assert update_row(OutboundMessage, message.pk, {"status": "sending"}, where={}, condition=not_opted_out_sql()) == 0
    OptOut.objects.update(is_active=False)
    assert update_row(OutboundMessage, message.pk, {"status": "sending"}, where={}, condition=not_opted_out_sql()) == 1
