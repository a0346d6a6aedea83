"""Change logs from history rows, ownership over time, and the handover lists."""

from datetime import timedelta

from django.utils import timezone

from audit.context import Door, acting
from audit.selectors import (
    change_log,
    customers_ever_owned_by,
    handover_items,
    owner_on,
    ownership_dataset,
    ownership_timeline,
    rep_handovers,
)
from audit.services import handover_create
from backend.crm.models import Customer
from backend.crm.selectors import owner_periods
from backend.crm.services import customer_update
from backend.org.services import api_key_issue
from backend.sales.models import Order
from backend.sales.services import shipment_record
from tests.factories import CustomerFactory


def hand_wuhan_to_li(people, reason="Zhang left"):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    with acting(user=people["wang"], door=Door.ADMIN):
        handover_create(by=people["wang"], customers=[wuhan], to=[people["li"]], reason=reason)
    return Customer.objects.get(pk=wuhan.pk)


def test_change_log_names_who_which_field_and_which_door(people):
    zhang = people["zhang"]
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    with acting(user=zhang, door=Door.SMS):
        customer_update(actor=zhang, customer=wuhan, source="sms", notes="Wants a fleet quote")
    wuhan.refresh_from_db()
    wuhan.address = "Hankou"
    wuhan.save()  # a background task: no person, the system door

    *_, by_sms, by_task = change_log(wuhan)
    assert (by_sms.who, by_sms.door, by_sms.action) == ("Wei Zhang", Door.SMS, "changed")
    assert [(c.field, c.old, c.new) for c in by_sms.changes] == [("notes", None, "Wants a fleet quote")]
    assert (by_task.who, by_task.door, by_task.user) == ("System", Door.SYSTEM, None)
    assert [(c.field, c.old, c.new) for c in by_task.changes] == [("address", "Hubei", "Hankou")]


def test_change_log_of_an_integration_names_the_api_key(people):
    key, _secret = api_key_issue(name="Warehouse ERP", role="logistics")
    with acting(user=key.user, door=Door.API_KEY, api_key=key):
        shipment_record(actor=key.user, order_number="PO-1001", carrier="SF", channel=Door.API_KEY)
    entry = change_log(Order.objects.get(number="PO-1001"))[-1]
    assert (entry.door, entry.api_key_name) == (Door.API_KEY, "Warehouse ERP")
    assert [(c.field, c.old, c.new) for c in entry.changes] == [("status", "Confirmed", "Shipped")]


def test_change_log_starts_with_the_creation_and_shows_sharing(people):
    with acting(user=people["zhang"], door=Door.APP):
        customer = CustomerFactory(owner=people["zhang"], name="Jianghan Fleet", phone=None)
        customer.shared_with.add(people["li"])
    created, shared = change_log(customer)
    assert created.action == "created" and created.who == "Wei Zhang"
    assert ("name", None, "Jianghan Fleet") in [(c.field, c.old, c.new) for c in created.changes]
    assert ("owner", None, "Wei Zhang") in [(c.field, c.old, c.new) for c in created.changes]
    assert [(c.field, c.old, c.new) for c in shared.changes] == [("shared_with", [], ["Na Li"])]


def test_change_log_leaves_out_saves_that_changed_nothing(people):
    customer = CustomerFactory(owner=people["zhang"])
    customer.save()
    assert [e.action for e in change_log(customer)] == ["created"]


def test_ownership_periods_with_who_and_why(people):
    wuhan = hand_wuhan_to_li(people)
    first, second = ownership_timeline(customers=Customer.objects.filter(pk=wuhan.pk))
    assert (first.period.owner, first.period.end) == (people["zhang"], second.period.start)
    assert (second.period.owner, second.period.end, second.period.by) == (people["li"], None, people["wang"])
    assert (second.period.door, second.period.reason) == (Door.ADMIN, "handover: Zhang left")
    assert owner_on(wuhan, second.period.start - timedelta(microseconds=1)).owner == people["zhang"]
    assert owner_on(wuhan, timezone.now()).owner == people["li"]
    assert owner_on(wuhan, wuhan.created_at - timedelta(days=1)) is None


def test_ownership_of_many_customers_in_a_fixed_number_of_queries(people, django_assert_num_queries):
    hand_wuhan_to_li(people)
    with django_assert_num_queries(2):
        periods = owner_periods(Customer.objects.all())
    assert len(periods) == Customer.objects.count()


def test_a_reps_timeline_and_what_they_handed_over_and_received(people):
    hand_wuhan_to_li(people)
    zhang, li = people["zhang"], people["li"]
    lines = ownership_timeline(customers=customers_ever_owned_by(zhang), rep=zhang)
    assert {(line.customer.name, line.period.end is None) for line in lines} == {
        ("Hubei Home Store", True), ("Wuhan Motors Ltd", False),
    }
    seen_by_li = rep_handovers(user=li, rep=li)
    assert [i.customer.name for i in seen_by_li["received"]] == ["Wuhan Motors Ltd"]
    assert seen_by_li["handed_over"] == []
    assert [i.customer.name for i in rep_handovers(user=people["wang"], rep=zhang)["handed_over"]] == [
        "Wuhan Motors Ltd"]
    assert not handover_items(user=people["zhao"]).exists()
    assert not handover_items(user=people["chen"]).exists()


def test_ownership_as_a_table(people):
    wuhan = hand_wuhan_to_li(people)
    dataset = ownership_dataset(ownership_timeline(customers=Customer.objects.filter(pk=wuhan.pk)))
    assert dataset.headers[:4] == ["customer_id", "customer", "owner", "owner_name"]
    assert [row[2] for row in dataset] == ["zhang", "li"]
    assert dataset[1][6:] == ("Fang Wang", "admin", "handover: Zhang left")
    assert "Wuhan Motors Ltd" in dataset.export("csv")
