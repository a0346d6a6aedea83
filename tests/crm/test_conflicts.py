"""Duplicate conflicts: who sees them, both sides at once, and the three ways to resolve them."""

import pytest

from audit.context import Door, acting
from backend.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from backend.core.models import Tombstone
from backend.crm.imports import customers_import, dataset_from_file
from backend.crm.models import Activity, ConflictStatus, Contact, Customer, DuplicateConflict, Opportunity
from backend.crm.selectors import conflict_get, conflict_list, conflict_sides, customer_list
from backend.crm.services import conflict_assign, conflict_dismiss, conflict_merge, conflict_open, customer_create
from backend.notifications.models import Notification
from backend.sales.models import Order, Sale
from tests.factories import ActivityFactory, ContactFactory, OrderFactory, SaleFactory

ZHANG = "name,phone,owner\nWuhan Motors Ltd,+862787000001,zhang\nGreen Valley Farm,+862787000031,zhang\n"
LI = "name,phone,owner\nWuhan Motors Co.,+862787000099,li\nGreen Valley Farm Ltd,+862787000031,li\n"


def import_lists(by, *lists):
    with acting(user=by, door=Door.SYSTEM):
        for text in lists:
            assert customers_import(by=by, customers=dataset_from_file("l.csv", text.encode())).saved


@pytest.fixture
def li_vs_zhang(people):
    """Li already works a customer Zhang has: an open conflict with a second record."""
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    with acting(user=people["li"], door=Door.APP):
        twin = Customer.objects.create(name="Wuhan Motors Co.", phone="+862787000099", owner=people["li"])
        conflict = conflict_open(existing=wuhan, candidate=twin, reported_by=people["li"], source="app",
                                 matched_on="name")
    return conflict


def test_manager_of_either_side_sees_it_reps_never(people, li_vs_zhang):
    assert list(conflict_list(user=people["wang"])) == [li_vs_zhang]
    assert list(conflict_list(user=people["exec"])) == [li_vs_zhang]
    assert not conflict_list(user=people["zhao"]).exists()
    for rep in ("zhang", "li"):
        with pytest.raises(Forbidden):
            conflict_list(user=people[rep])
    with pytest.raises(NotFound):
        conflict_get(user=people["zhao"], conflict_id=li_vs_zhang.pk)


def test_a_manager_sees_conflicts_on_their_teams_customer_reported_elsewhere(people):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")  # Zhang's, Wang's team
    conflict = conflict_open(existing=wuhan, reported_by=people["chen"], source="sms", matched_on="phone",
                             proposed={"phone": wuhan.phone})
    assert conflict in conflict_list(user=people["wang"])  # the existing customer's side
    assert conflict in conflict_list(user=people["zhao"])  # the reporting rep's side


def test_both_records_side_by_side(people, li_vs_zhang):
    sides = conflict_sides(conflict_get(user=people["wang"], conflict_id=li_vs_zhang.pk))
    assert sides["existing"]["name"] == "Wuhan Motors Ltd" and sides["existing"]["owner"] == people["zhang"]
    assert sides["existing"]["contacts"] == 2 and sides["existing"]["orders"] > 0 and sides["existing"]["sales"] > 0
    assert sides["candidate"]["name"] == "Wuhan Motors Co." and sides["candidate"]["owner"] == people["li"]


def test_merge_moves_everything_to_the_survivor(people, li_vs_zhang):
    wuhan, twin = li_vs_zhang.existing, li_vs_zhang.candidate
    ContactFactory(customer=twin, name="Mr. Qian")
    visit = ActivityFactory(customer=twin, rep=people["li"])
    order = OrderFactory(customer=twin, rep=people["li"])
    sale = SaleFactory(customer=twin, rep=people["li"])
    counts = {m: m.objects.filter(customer__in=[wuhan, twin]).count() for m in (Contact, Activity, Order, Sale)}

    with acting(user=people["wang"], door=Door.APP):
        resolved = conflict_merge(by=people["wang"], conflict=li_vs_zhang, keep="existing", note="Same company")

    assert resolved.status == ConflictStatus.MERGED and resolved.resolved_by == people["wang"]
    for model, count in counts.items():
        assert model.objects.filter(customer=wuhan).count() == count
        assert not model.objects.filter(customer=twin).exists()
    order.refresh_from_db()
    sale.refresh_from_db()
    visit.refresh_from_db()
    assert order.rep == people["zhang"]  # open work follows the survivor's owner
    assert sale.rep == people["li"] and visit.rep == people["li"]  # credit stays with who did it
    twin.refresh_from_db()
    assert twin.merged_into == wuhan  # kept, not deleted
    assert not customer_list(user=people["li"]).filter(pk=twin.pk).exists()
    # The merge is in the history of both records, and of each moved row.
    for record in (wuhan, twin, sale, visit):
        latest = record.history.latest()
        assert latest.history_change_reason.startswith("merge: ") and latest.history_user == people["wang"]
    assert twin.history.latest().merged_into_id == wuhan.pk
    assert Tombstone.objects.filter(model="crm.customer", object_id=str(twin.pk), user=people["li"]).exists()


def test_merge_keeping_the_candidate(people, li_vs_zhang):
    with acting(user=people["wang"], door=Door.APP):
        conflict_merge(by=people["wang"], conflict=li_vs_zhang, keep="candidate")
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    assert wuhan.merged_into == li_vs_zhang.candidate
    assert Order.objects.get(number="PO-1001").customer == li_vs_zhang.candidate
    assert Order.objects.get(number="PO-1001").rep == people["li"]
    assert set(Opportunity.objects.filter(customer=li_vs_zhang.candidate, status="open").values_list(
        "owner", flat=True)) == {people["li"].pk}


def test_a_conflict_is_resolved_once(people, li_vs_zhang):
    conflict_dismiss(by=people["wang"], conflict=li_vs_zhang)
    with pytest.raises(Conflict):
        conflict_merge(by=people["wang"], conflict=li_vs_zhang)


def test_reps_do_not_resolve(people, li_vs_zhang):
    with pytest.raises(Forbidden):
        conflict_dismiss(by=people["li"], conflict=li_vs_zhang)


def test_assign_hands_both_records_to_one_owner(people, li_vs_zhang):
    with acting(user=people["wang"], door=Door.APP):
        conflict_assign(by=people["wang"], conflict=li_vs_zhang, owner=people["li"], note="Li knows them")
    assert Customer.objects.get(name="Wuhan Motors Ltd").owner == people["li"]
    assert DuplicateConflict.objects.get().status == ConflictStatus.ASSIGNED
    assert Notification.objects.filter(recipient=people["li"], kind="handover").exists()
    from audit.models import HandoverItem

    assert HandoverItem.objects.get().handover.reason == "Li knows them"


def test_dismissed_as_distinct_lets_the_rep_go_ahead(people):
    with acting(user=people["li"], door=Door.APP), pytest.raises(Conflict) as refused:
        customer_create(actor=people["li"], source="app", name="Wuhan Motors")
    conflict = DuplicateConflict.objects.get(pk=refused.value.extra["conflict_id"])
    assert conflict.candidate is None and conflict.proposed["name"] == "Wuhan Motors"
    with pytest.raises(ApplicationError) as no_merge:
        conflict_merge(by=people["wang"], conflict=conflict)
    assert no_merge.value.code == "nothing_to_merge"

    conflict_dismiss(by=people["wang"], conflict=conflict, note="Different company, same name")
    assert Notification.objects.filter(recipient=people["li"], kind="conflict_resolved").exists()
    with acting(user=people["li"], door=Door.APP):
        created = customer_create(actor=people["li"], source="app", name="Wuhan Motors")
    assert created.owner == people["li"]


def test_overlapping_imports_open_conflicts_and_merging_keeps_every_record(people):
    import_lists(people["wang"], ZHANG, LI)
    conflicts = list(conflict_list(user=people["wang"]))
    assert {(c.existing.name, c.candidate.name, c.matched_on) for c in conflicts} == {
        ("Wuhan Motors Ltd", "Wuhan Motors Co.", "name"),
        ("Green Valley Farm", "Green Valley Farm Ltd", "phone"),
    }
    conflict = next(c for c in conflicts if c.existing.name == "Wuhan Motors Ltd")
    wuhan, twin = conflict.existing, conflict.candidate
    ActivityFactory(customer=twin, rep=people["li"])
    SaleFactory(customer=twin, rep=people["li"])
    records = {m: set(m.objects.filter(customer__in=[wuhan, twin]).values_list("pk", flat=True))
               for m in (Activity, Order, Sale, Contact)}
    with acting(user=people["wang"], door=Door.APP):
        conflict_merge(by=people["wang"], conflict=conflict)
    for model, pks in records.items():
        assert set(model.objects.filter(customer=wuhan).values_list("pk", flat=True)) == pks
