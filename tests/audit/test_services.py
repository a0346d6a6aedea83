"""Handover through the service: what moves, what stays, who is told, and who may do it."""

import pytest

from audit.context import Door, acting
from audit.models import Handover, HandoverItem
from audit.services import handover_create
from backend.core.errors import ApplicationError, Forbidden, NotFound
from backend.crm.models import Customer, Opportunity, OpportunityStatus
from backend.crm.selectors import customer_list
from backend.notifications.models import Notification
from backend.sales.models import Order, OrderStatus, Sale, Shipment
from tests.factories import ManagerFactory, RepFactory


def hand_over(by, **kwargs):
    with acting(user=by, door=Door.ADMIN):
        return handover_create(by=by, **kwargs)


def test_every_customer_of_a_rep_is_spread_across_two_new_owners(people):
    zhang, li, chen, wang = people["zhang"], people["li"], people["chen"], people["wang"]
    chen.manager = wang  # Chen joins Wang's team to take customers over
    chen.save()
    handover = hand_over(wang, from_user=zhang, to=[li, chen], reason="Zhang left the company")

    moved = Customer.objects.filter(name__in=["Hubei Home Store", "Wuhan Motors Ltd"])
    owners = dict(moved.values_list("name", "owner"))
    # Dealt in turn, by name: Hubei Home Store first.
    assert owners == {"Hubei Home Store": li.pk, "Wuhan Motors Ltd": chen.pk}
    assert not customer_list(user=zhang).exists()
    items = {i.customer.name: i for i in handover.items.select_related("customer")}
    assert {i.from_user_id for i in items.values()} == {zhang.pk}
    assert handover.by == wang and handover.door == Door.ADMIN and handover.reason == "Zhang left the company"
    assert items["Wuhan Motors Ltd"].moved["orders"] == ["PO-1001"]


def test_open_work_moves_and_past_sales_stay_credited(people):
    zhang, li, wang = people["zhang"], people["li"], people["wang"]
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    open_deals = set(wuhan.opportunities.filter(status=OpportunityStatus.OPEN).values_list("pk", flat=True))
    closed_deals = set(wuhan.opportunities.exclude(status=OpportunityStatus.OPEN).values_list("pk", flat=True))
    sales_before = Sale.objects.filter(customer=wuhan, rep=zhang).count()
    delivered = set(Order.objects.filter(customer=wuhan, status=OrderStatus.RECEIVED).values_list("pk", flat=True))

    item = hand_over(wang, customers=[wuhan], to=[li], reason="Territory change").items.get()

    assert set(Opportunity.objects.filter(pk__in=open_deals).values_list("owner", flat=True)) == {li.pk}
    assert set(Opportunity.objects.filter(pk__in=closed_deals).values_list("owner", flat=True)) == {zhang.pk}
    assert Order.objects.get(number="PO-1001").rep == li
    assert set(Order.objects.filter(pk__in=delivered).values_list("rep", flat=True)) == {zhang.pk}
    assert Sale.objects.filter(customer=wuhan, rep=zhang).count() == sales_before > 0
    assert set(item.moved["opportunities"]) == {str(pk) for pk in open_deals}


def test_unacknowledged_shipment_follows_its_order(people):
    zhang, li, wang = people["zhang"], people["li"], people["wang"]
    order = Order.objects.get(number="PO-1001")
    shipment = Shipment.objects.create(order=order, carrier="SF", tracking="SF1", shipped_at=order.ordered_at)
    item = hand_over(wang, customers=[order.customer], to=[li], reason="Leave").items.get()
    assert item.moved["shipments"] == [str(shipment.pk)]
    from backend.org.scoping import scope

    assert scope(Shipment.objects.filter(pk=shipment.pk), li).exists()
    assert not scope(Shipment.objects.filter(pk=shipment.pk), zhang).exists()


def test_history_of_each_moved_record_says_who_and_why(people):
    li, wang = people["li"], people["wang"]
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    hand_over(wang, customers=[wuhan], to=[li], reason="Zhang left")
    latest = wuhan.history.latest()
    assert (latest.owner_id, latest.history_user_id, latest.history_door) == (li.pk, wang.pk, Door.ADMIN)
    assert latest.history_change_reason == "handover: Zhang left"
    order = Order.objects.get(number="PO-1001").history.latest()
    assert (order.rep_id, order.history_user_id) == (li.pk, wang.pk)
    assert order.history_change_reason == "handover: Zhang left"


def test_new_owner_is_notified_with_a_briefing_in_their_language(people):
    li, wang = people["li"], people["wang"]  # Li reads Chinese (demo data)
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    hand_over(wang, customers=[wuhan], to=[li], reason="Zhang left")
    notice = Notification.objects.get(recipient=li, kind="handover")
    assert "Wuhan Motors Ltd" in notice.text
    briefing = notice.data["customers"][0]
    assert briefing["name"] == "Wuhan Motors Ltd"
    assert {(c["name"], c["buying_role"]) for c in briefing["key_contacts"]} == {
        ("Mr. Gao Jun", "decision_maker"), ("Ms. Sun Li", "influencer"),
    }
    assert briefing["open_deals"] and all(d["stage"] for d in briefing["open_deals"])
    assert briefing["last_orders"][0]["number"] and briefing["last_activities"]


def test_the_whole_handover_is_atomic(people, monkeypatch):
    zhang, li, wang = people["zhang"], people["li"], people["wang"]
    import audit.services

    def fail(*args, **kwargs):
        raise RuntimeError("the notice could not be stored")

    monkeypatch.setattr(audit.services, "notify", fail)
    with pytest.raises(RuntimeError):
        hand_over(wang, from_user=zhang, to=[li], reason="Zhang left")
    assert Customer.objects.filter(owner=zhang).count() == 2
    assert Order.objects.get(number="PO-1001").rep == zhang
    assert not Handover.objects.exists() and not HandoverItem.objects.exists()


def test_a_reason_is_required(people):
    with pytest.raises(ApplicationError) as error:
        hand_over(people["wang"], from_user=people["zhang"], to=[people["li"]], reason="  ")
    assert error.value.code == "reason_required"


def test_reps_do_not_hand_over(people):
    with pytest.raises(Forbidden):
        hand_over(people["zhang"], from_user=people["zhang"], to=[people["li"]], reason="I quit")


def test_a_manager_cannot_take_customers_from_another_team(people):
    pudong = Customer.objects.get(name="Pudong Auto Mall")  # Chen's, in Zhao's team
    with pytest.raises(NotFound):
        hand_over(people["wang"], customers=[pudong], to=[people["li"]], reason="Mine now")
    assert Customer.objects.get(pk=pudong.pk).owner == people["chen"]


def test_a_manager_hands_only_to_reps_in_their_team(people):
    with pytest.raises(Forbidden):
        hand_over(people["wang"], from_user=people["zhang"], to=[people["chen"]], reason="Leaving")


def test_only_active_reps_receive(people):
    manager = people["wang"]
    with pytest.raises(ApplicationError) as error:
        hand_over(manager, from_user=people["zhang"], to=[manager], reason="Leaving")
    assert error.value.code == "not_a_rep"


def test_a_customer_is_never_handed_to_its_own_rep(people):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    with pytest.raises(ApplicationError) as error:
        hand_over(people["wang"], customers=[wuhan], to=[people["zhang"]], reason="No-op")
    assert error.value.code == "already_owner"


def test_spreading_skips_the_current_owner(db):
    manager = ManagerFactory()
    a, b = RepFactory(manager=manager), RepFactory(manager=manager)
    from tests.factories import CustomerFactory

    mine = [CustomerFactory(owner=a, name=f"A{n}") for n in range(2)] + [CustomerFactory(owner=b, name="B0")]
    hand_over(manager, customers=mine, to=[a, b], reason="Rebalance")
    owners = dict(Customer.objects.values_list("name", "owner"))
    assert owners == {"A0": b.pk, "A1": b.pk, "B0": a.pk}


def test_an_executive_hands_over_across_teams(people):
    pudong = Customer.objects.get(name="Pudong Auto Mall")
    hand_over(people["exec"], customers=[pudong], to=[people["li"]], reason="Reorganisation")
    assert Customer.objects.get(pk=pudong.pk).owner == people["li"]
