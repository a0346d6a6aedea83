"""The figures STATUS and a SOLD reply quote, for several people at once, each in their own sight."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backend.sales.models import RewardStatus
from backend.sales.selectors import day_totals, tallies
from tests.factories import (
    CustomerFactory,
    ExecutiveFactory,
    LogisticsFactory,
    ManagerFactory,
    OrderFactory,
    RepFactory,
    RewardFactory,
    SaleFactory,
    ShipmentFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    manager = ManagerFactory()
    ann, bo = RepFactory(manager=manager), RepFactory(manager=manager)
    outsider = RepFactory()
    return {"manager": manager, "ann": ann, "bo": bo, "outsider": outsider}


def sale(rep, *, amount: str | None = "20.50", days_ago: int = 0, status=RewardStatus.PENDING, voided=False):
    sold_at = timezone.now() - timedelta(days=days_ago)
    made = SaleFactory(rep=rep, sold_at=sold_at, voided_at=sold_at if voided else None)
    if amount is not None:
        RewardFactory(sale=made, amount=Decimal(amount), status=status)
    return made


def test_each_person_gets_their_own_figures_and_a_manager_their_teams(team):
    ann, bo, outsider, manager = team["ann"], team["bo"], team["outsider"], team["manager"]
    sale(ann), sale(ann, amount="10.25"), sale(bo, amount=None), sale(outsider, amount="99")

    figures = tallies([ann, bo, manager, outsider, RepFactory()])

    assert [(t.sales_today, t.rewards_today) for t in figures] == [
        (2, Decimal("30.75")), (1, Decimal("0")), (3, Decimal("30.75")), (1, Decimal("99")), (0, Decimal("0")),
    ]
    assert day_totals([ann, manager]) == [(2, Decimal("30.75")), (3, Decimal("30.75"))]


def test_the_month_counts_earlier_days_and_leaves_out_voided_sales_and_cancelled_rewards(team):
    ann = team["ann"]
    today = timezone.localdate()
    earlier_this_month = min(today.day - 1, 2)
    sale(ann)
    sale(ann, amount="5", status=RewardStatus.CANCELLED)  # the sale counts, its reward does not
    sale(ann, voided=True)
    if earlier_this_month:
        sale(ann, amount="7", days_ago=earlier_this_month)
    sale(ann, amount="1000", days_ago=today.day + 3)  # last month

    [mine] = tallies([ann], today=today)

    assert (mine.sales_today, mine.rewards_today) == (2, Decimal("20.50"))
    assert (mine.sales_month, mine.rewards_month) == (
        (3, Decimal("27.50")) if earlier_this_month else (2, Decimal("20.50"))
    )


def test_a_day_is_the_local_day_from_midnight_to_midnight(team):
    ann, day = team["ann"], date(2026, 3, 10)
    midnight = timezone.make_aware(datetime.combine(day, time.min))  # in TIME_ZONE, not UTC
    for moment, amount in ((midnight - timedelta(microseconds=1), "1"), (midnight, "10"),
                           (midnight + timedelta(days=1) - timedelta(microseconds=1), "100"),
                           (midnight + timedelta(days=1), "1000")):
        RewardFactory(sale=SaleFactory(rep=ann, sold_at=moment), amount=Decimal(amount))

    [mine] = tallies([ann], today=day)

    assert (mine.sales_today, mine.rewards_today) == (2, Decimal("110"))
    assert (mine.sales_month, mine.rewards_month) == (3, Decimal("111"))


def test_an_executive_sees_everyones_figures_and_logistics_none(team):
    sale(team["ann"]), sale(team["outsider"], amount="1")

    executive, logistics = tallies([ExecutiveFactory(), LogisticsFactory()])

    assert (executive.sales_today, executive.rewards_today) == (2, Decimal("21.50"))
    assert (logistics.sales_today, logistics.rewards_today) == (0, Decimal("0"))


def test_shipments_to_confirm_are_the_persons_own_and_only_those_neither_told_nor_received(team):
    ann, bo, manager = team["ann"], team["bo"], team["manager"]
    now = timezone.now()

    def shipped(rep, number, *, minutes_ago, **state):
        order = OrderFactory(number=number, customer=CustomerFactory(owner=rep))
        ShipmentFactory(order=order, shipped_at=now - timedelta(minutes=minutes_ago), **state)

    shipped(ann, "PO-1", minutes_ago=30)
    shipped(ann, "PO-2", minutes_ago=10)
    shipped(ann, "PO-3", minutes_ago=5, customer_told_at=now)
    shipped(ann, "PO-4", minutes_ago=5, received_at=now)
    shipped(bo, "PO-5", minutes_ago=1)
    shipped(team["outsider"], "PO-6", minutes_ago=1)

    mine, bos, managers = (tally.awaiting_ok for tally in tallies([ann, bo, manager]))

    assert (mine, bos, managers) == (["PO-1", "PO-2"], ["PO-5"], ["PO-1", "PO-2", "PO-5"])
