"""A small world whose every figure is computed by hand in the tests. The clock stands at
Wednesday 2025-06-18 12:00 in Shanghai; "10:00" below is local time."""

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine

from backend.crm.models import BuyingRole, Customer, OpportunityStatus
from backend.reports.services import forecast_snapshot_take
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 18, 12, 0, tzinfo=TZ)
TODAY = NOW.date()


def at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=TZ)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def sell(rep, product, units: int, when: datetime, customer=None, reward: Decimal | None = None, voided=False):
    """`units` sales of one report, each with its reward (the product's rule amount)."""
    sales = []
    for _ in range(units):
        sale = f.SaleFactory(rep=rep, product=product, sold_at=when, unit_price=product.price, customer=customer,
                             voided_at=when if voided else None)
        amount = reward if reward is not None else product.reward_rules.first().amount_per_unit
        f.RewardFactory(sale=sale, amount=amount, status="cancelled" if voided else "pending")
        sales.append(sale)
    return sales


@pytest.fixture
def world(db, clock):
    north, south = f.RegionFactory(code="N", name="North"), f.RegionFactory(code="S", name="South")
    bn, bs = f.BranchFactory(code="BN", region=north), f.BranchFactory(code="BS", region=south)
    boss = f.ExecutiveFactory(username="boss", first_name="Boss", last_name="")
    m1 = f.ManagerFactory(username="m1", first_name="Mia", last_name="One", branch=bn, manager=boss)
    m2 = f.ManagerFactory(username="m2", first_name="Max", last_name="Two", branch=bs, manager=boss)
    a = f.RepFactory(username="a", first_name="Ann", last_name="A", branch=bn, manager=m1)
    b = f.RepFactory(username="b", first_name="Ben", last_name="B", branch=bn, manager=m1)
    c = f.RepFactory(username="c", first_name="Cai", last_name="C", branch=bs, manager=m2)

    p1 = f.ProductFactory(code="P1", price=Decimal("1000"), cost=Decimal("700"))
    p2 = f.ProductFactory(code="P2", price=Decimal("500"), cost=Decimal("400"))
    f.RewardRuleFactory(product=p1, amount_per_unit=Decimal("20"))
    f.RewardRuleFactory(product=p2, amount_per_unit=Decimal("10"))

    ca = f.CustomerFactory(name="Alpha Co", owner=a)
    cb = f.CustomerFactory(name="Beta Co", owner=b)
    cb2 = f.CustomerFactory(name="Beta Two", owner=b)
    cc = f.CustomerFactory(name="Gamma Co", owner=c)
    Customer.objects.update(created_at=at("2025-01-01"))
    fresh = f.CustomerFactory(name="Fresh Co", owner=a)  # today: A's one new customer

    sell(a, p1, 3, at("2025-04-10"), ca)
    sell(a, p1, 2, at("2025-05-12"), ca)
    sell(a, p2, 1, at("2025-06-18"), ca)
    sell(a, p1, 1, at("2025-06-18", 11), ca, voided=True)
    sell(b, p2, 4, at("2025-05-20"), cb)
    sell(b, p1, 1, at("2025-06-17"), cb2)
    sell(c, p1, 2, at("2025-06-02"), cc)

    f.ActivityFactory(customer=ca, rep=a, kind="visit", occurred_at=at("2025-06-18", 9))
    f.ActivityFactory(customer=fresh, rep=a, kind="visit", occurred_at=at("2025-06-18", 11))
    f.ActivityFactory(customer=ca, rep=a, kind="call", occurred_at=at("2025-06-18", 10))
    f.ActivityFactory(customer=ca, rep=a, kind="visit", occurred_at=at("2025-06-18", 8), voided_at=NOW)

    world = SimpleNamespace(north=north, south=south, bn=bn, bs=bs, boss=boss, m1=m1, m2=m2, a=a, b=b, c=c,
                            p1=p1, p2=p2, ca=ca, cb=cb, cb2=cb2, cc=cc, fresh=fresh)
    _deals(world)
    forecast_snapshot_take(period=date(2025, 6, 1))
    close_o2(world)
    _orders(world)
    return world


def _deals(w) -> None:
    division = f.DivisionFactory(code="D")
    s1 = f.StageFactory(division=division, order=1, name="Lead", probability=10, usual_days=7)
    s2 = f.StageFactory(division=division, order=2, name="Demo", probability=50, usual_days=10)
    s3 = f.StageFactory(division=division, order=3, name="Contract", probability=90, usual_days=5)
    w.s1, w.s2, w.s3 = s1, s2, s3

    def deal(name, customer, stage, amount, close, entries, status="open", closed_at=None):
        o = f.OpportunityFactory(name=name, customer=customer, stage=stage, amount=Decimal(amount),
                                 expected_close=close and date.fromisoformat(close), stage_entered_at=entries[-1][1],
                                 status=status, closed_at=closed_at, close_reason="" if status != "lost" else "Price")
        for stage_, entered, left in entries:
            f.StageEntryFactory(opportunity=o, stage=stage_, entered_at=entered, left_at=left)
        return o

    w.o1 = deal("O1", w.ca, s2, 10000, "2025-06-25",
                [(s1, at("2025-06-01"), at("2025-06-05")), (s2, at("2025-06-05"), None)])
    w.o2 = deal("O2", w.ca, s3, 20000, "2025-06-20",
                [(s1, at("2025-05-20"), at("2025-05-25")), (s2, at("2025-05-25"), at("2025-06-04")),
                 (s3, at("2025-06-04"), None)])
    w.o3 = deal("O3", w.cb2, s1, 30000, "2025-07-10", [(s1, at("2025-06-10"), None)])
    w.o4 = deal("O4", w.cb, s3, 40000, "2025-06-30",
                [(s2, at("2025-05-01"), at("2025-05-31")), (s3, at("2025-05-31"), None)])
    w.o5 = deal("O5", w.cc, s2, 50000, None, [(s2, at("2025-04-01"), None)])
    w.o6 = deal("O6", w.cb, s2, 8000, "2025-06-10",
                [(s1, at("2025-05-01"), at("2025-05-11")), (s2, at("2025-05-11"), at("2025-06-05"))],
                status=OpportunityStatus.LOST, closed_at=at("2025-06-05"))

    # Activity: O1's customer yesterday (no deal named), O4 itself three days ago, O5 only voided.
    f.ActivityFactory(customer=w.ca, rep=w.a, kind="call", occurred_at=at("2025-06-16"))
    f.ActivityFactory(customer=w.cb, rep=w.b, opportunity=w.o4, kind="meeting", occurred_at=at("2025-06-15"))
    f.ActivityFactory(customer=w.cc, rep=w.c, opportunity=w.o5, occurred_at=at("2025-06-17"), voided_at=NOW)

    # Decision makers: Beta Co's last met 2025-04-01; Beta Two's on paper 2025-03-01 but met 2025-05-20
    # (an activity); Gamma Co has an influencer only.
    f.ContactFactory(customer=w.cb, name="Dora Decides", buying_role=BuyingRole.DECISION_MAKER,
                     last_contacted_at=at("2025-04-01"))
    dm2 = f.ContactFactory(customer=w.cb2, name="Dan Decides", buying_role=BuyingRole.DECISION_MAKER,
                           last_contacted_at=at("2025-03-01"))
    f.ActivityFactory(customer=w.cb2, rep=w.b, contact=dm2, kind="meeting", occurred_at=at("2025-05-20"))
    f.ContactFactory(customer=w.cc, name="Ivy Influences", buying_role=BuyingRole.INFLUENCER,
                     last_contacted_at=at("2025-06-17"))


def close_o2(w) -> None:
    """O2 is won today at 10:00, after June's forecast was snapshotted."""
    w.o2.status, w.o2.closed_at = OpportunityStatus.WON, at("2025-06-18")
    w.o2.save()
    w.o2.stage_entries.filter(left_at__isnull=True).update(left_at=at("2025-06-18"))


def _orders(w) -> None:
    def shipped(rep, customer, ordered, ship, told, received):
        order = f.OrderFactory(rep=rep, customer=customer, ordered_at=ordered)
        f.ShipmentFactory(order=order, shipped_at=ship, rep_notified_at=ship, customer_told_at=told,
                          received_at=received)

    shipped(w.a, w.ca, at("2025-06-01"), at("2025-06-03"), at("2025-06-03", 16), at("2025-06-05"))
    shipped(w.b, w.cb, at("2025-06-02"), at("2025-06-03"), at("2025-06-04", 4), at("2025-06-07"))
    shipped(w.c, w.cc, at("2025-05-10"), at("2025-05-12"), None, at("2025-05-13"))
    shipped(w.c, w.cc, at("2025-06-10"), at("2025-06-11"), None, None)  # on its way: not counted

    f.OrderFactory(rep=w.b, customer=w.cb, amount=Decimal("5000"), due_date=date(2025, 6, 1))  # overdue
    f.OrderFactory(rep=w.b, customer=w.cb, amount=Decimal("7000"), due_date=date(2025, 6, 1),
                   paid_date=date(2025, 6, 2))
    f.OrderFactory(rep=w.c, customer=w.cc, amount=Decimal("9000"), due_date=date(2025, 6, 30))  # not due yet
    f.OrderFactory(rep=w.a, customer=w.ca, amount=Decimal("3000"), due_date=date(2025, 5, 1), status="cancelled")
