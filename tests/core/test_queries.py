"""`update_row`: a conditional write of one row, written out as SQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.core.queries import update_row
from backend.sales.models import Order, OrderStatus
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
