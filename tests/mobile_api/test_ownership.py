"""Ownership through the API: a rep leaves, two others take over, and everything shows who did it."""

import csv
import io

import pytest
from django.utils import timezone

from backend.crm.models import Contact, Customer, DuplicateConflict, Opportunity, OpportunityStatus
from backend.sales.models import Order
from tests.factories import RepFactory


@pytest.fixture
def sun(people):
    """A new rep in Wang's team, who will take part of Zhang's customers."""
    return RepFactory(username="sun", first_name="Hong", last_name="Sun", manager=people["wang"],
                      branch=people["zhang"].branch)


def test_a_rep_leaves_and_two_others_take_every_customer_over(people, sun, api_as):
    zhang, li, wang = people["zhang"], people["li"], people["wang"]
    hubei, wuhan = Customer.objects.get(name="Hubei Home Store"), Customer.objects.get(name="Wuhan Motors Ltd")
    wuhan_contacts = {str(pk) for pk in Contact.objects.filter(customer=wuhan).values_list("pk", flat=True)}
    deals = Opportunity.objects.filter(customer__in=[hubei, wuhan], status=OpportunityStatus.OPEN)
    open_deals = {str(pk) for pk in deals.values_list("pk", flat=True)}
    zhang_app, li_app, sun_app, wang_app = (api_as(u) for u in (zhang, li, sun, wang))
    cursor = zhang_app.get("/sync").json()["cursor"]
    sun_cursor = sun_app.get("/sync").json()["cursor"]

    response = wang_app.post("/ownership/handovers", {
        "from_user_id": zhang.pk, "to_user_ids": [li.pk, sun.pk], "reason": "Zhang left the company",
    })
    assert response.status_code == 201, response.content
    handover = response.json()
    assert handover["by"]["name"] == "Fang Wang" and handover["reason"] == "Zhang left the company"
    assert {(i["customer"]["name"], i["to_user"]["name"]) for i in handover["items"]} == {
        ("Hubei Home Store", "Na Li"), ("Wuhan Motors Ltd", "Hong Sun"),
    }
    assert next(i for i in handover["items"] if i["to_user"]["name"] == "Hong Sun")["moved"]["orders"] == ["PO-1001"]

    # The old rep: 404 on the next request, and tombstones on the next sync.
    for path in (f"/customers/{wuhan.pk}", f"/customers/{hubei.pk}/overview", f"/ownership/customers/{wuhan.pk}/owners",
                 f"/ownership/changes/customer/{wuhan.pk}", f"/ownership/customers/{wuhan.pk}/briefing"):
        assert zhang_app.get(path).status_code == 404, path
    deleted = zhang_app.get("/sync", {"cursor": cursor}).json()["changes"]
    assert {str(hubei.pk), str(wuhan.pk)} <= set(deleted["customers"]["deleted"])
    assert wuhan_contacts <= set(deleted["contacts"]["deleted"])
    assert open_deals <= set(deleted["opportunities"]["deleted"])
    assert str(Order.objects.get(number="PO-1001").pk) in deleted["orders"]["deleted"]

    # The new reps see everything, with the briefing.
    overview = sun_app.get(f"/customers/{wuhan.pk}/overview").json()
    assert {c["name"] for c in overview["contacts"]} == {"Mr. Gao Jun", "Ms. Sun Li"}
    assert {o["number"] for o in overview["orders"]} >= {"PO-1001"}
    assert li_app.get(f"/customers/{hubei.pk}").status_code == 200
    pulled = sun_app.get("/sync", {"cursor": sun_cursor}).json()["changes"]
    synced = {table: {r["id"] for r in rows["created"] + rows["updated"]} for table, rows in pulled.items()}
    assert str(wuhan.pk) in synced["customers"] and wuhan_contacts <= synced["contacts"]
    notices = sun_app.get("/notifications").json()["items"]
    notice = next(n for n in notices if n["kind"] == "handover")
    assert "Wuhan Motors Ltd" in notice["text"]
    briefing = notice["data"]["customers"][0]
    assert briefing["name"] == "Wuhan Motors Ltd"
    assert {c["buying_role"] for c in briefing["key_contacts"]} == {"decision_maker", "influencer"}
    assert briefing["open_deals"] and briefing["last_orders"]
    live = sun_app.get(f"/ownership/customers/{wuhan.pk}/briefing").json()
    assert live["key_contacts"] == briefing["key_contacts"]

    # The ownership timeline shows each step with who did it.
    owners = li_app.get(f"/ownership/customers/{hubei.pk}/owners").json()
    assert [(p["owner"]["name"], p["end"] is None) for p in owners] == [("Wei Zhang", False), ("Na Li", True)]
    assert (owners[1]["by"]["name"], owners[1]["door"], owners[1]["reason"]) == (
        "Fang Wang", "app", "handover: Zhang left the company")
    assert owners[0]["end"] == owners[1]["start"]

    # The change log of the customer and of its order shows who changed what, through which door.
    log = sun_app.get(f"/ownership/changes/customer/{wuhan.pk}").json()
    assert log[0]["action"] == "created"
    last = log[-1]
    assert (last["who"], last["door"], last["reason"]) == ("Fang Wang", "app", "handover: Zhang left the company")
    assert {"field": "owner", "label": "owner", "old": "Wei Zhang", "new": "Hong Sun"} in last["changes"]
    order_log = sun_app.get(f"/ownership/changes/order/{Order.objects.get(number='PO-1001').pk}").json()
    assert {"field": "rep", "label": "rep", "old": "Wei Zhang", "new": "Hong Sun"} in order_log[-1]["changes"]

    # What Zhang handed over, seen by his manager, also as CSV.
    rep = wang_app.get(f"/ownership/reps/{zhang.pk}").json()
    assert {i["customer"]["name"] for i in rep["handed_over"]} == {"Hubei Home Store", "Wuhan Motors Ltd"}
    assert rep["received"] == [] and all(p["end"] for p in rep["periods"])
    exported = wang_app.get("/ownership/owners.csv", {"rep_id": zhang.pk})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert {(r["customer"], r["owner"]) for r in rows} == {("Hubei Home Store", "zhang"), ("Wuhan Motors Ltd", "zhang")}


def test_owner_on_a_date(people, api_as):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    app = api_as(people["zhang"])
    today = timezone.localdate(wuhan.created_at).isoformat()  # the day in local time
    assert app.get(f"/ownership/customers/{wuhan.pk}/owner-on", {"on": today}).json()["owner"]["name"] == "Wei Zhang"
    assert app.get(f"/ownership/customers/{wuhan.pk}/owner-on", {"on": "2001-01-01"}).status_code == 404


def test_only_managers_hand_over_and_only_inside_their_team(people, api_as):
    body = {"from_user_id": people["zhang"].pk, "to_user_ids": [people["li"].pk], "reason": "x"}
    assert api_as(people["zhang"]).post("/ownership/handovers", body).status_code == 403
    assert api_as(people["zhao"]).post("/ownership/handovers", body).status_code == 404
    pudong = Customer.objects.get(name="Pudong Auto Mall")
    other_team = {"customer_ids": [str(pudong.pk)], "to_user_ids": [people["li"].pk], "reason": "x"}
    assert api_as(people["wang"]).post("/ownership/handovers", other_team).status_code == 404
    no_reason = {**body, "reason": " "}
    answer = api_as(people["wang"]).post("/ownership/handovers", no_reason)
    assert (answer.status_code, answer.json()["code"]) == (400, "reason_required")
    assert Customer.objects.filter(owner=people["zhang"]).count() == 2


def test_a_replayed_handover_changes_nothing(people, sun, api_as):
    wang = api_as(people["wang"])
    body = {"from_user_id": people["zhang"].pk, "to_user_ids": [people["li"].pk], "reason": "Zhang left"}
    key = {"Idempotency-Key": "6a3c7e2e-0d7b-4d59-9e6f-1d1f4a0e7b55"}
    first = wang.post("/ownership/handovers", body, headers=key)
    again = wang.post("/ownership/handovers", body, headers=key)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    from audit.models import Handover

    assert Handover.objects.count() == 1


@pytest.fixture
def overlapping(people):
    """Li imported a list that overlaps Zhang's: one conflict with a second record."""
    from tests.crm.test_conflicts import LI, ZHANG, import_lists

    import_lists(people["wang"], ZHANG, LI)
    return DuplicateConflict.objects.get(existing__name="Wuhan Motors Ltd")


def test_conflicts_for_managers_only_side_by_side(people, api_as, overlapping):
    wang = api_as(people["wang"])
    listed = wang.get("/ownership/conflicts").json()["items"]
    assert {c["existing"]["name"] for c in listed} == {"Wuhan Motors Ltd", "Green Valley Farm"}
    detail = wang.get(f"/ownership/conflicts/{overlapping.pk}").json()
    assert detail["existing"]["owner"]["name"] == "Wei Zhang" and detail["existing"]["orders"] > 0
    assert detail["candidate"]["name"] == "Wuhan Motors Co." and detail["candidate"]["owner"]["name"] == "Na Li"
    for rep in ("zhang", "li"):
        assert api_as(people[rep]).get("/ownership/conflicts").status_code == 403
        assert api_as(people[rep]).get(f"/ownership/conflicts/{overlapping.pk}").status_code == 403
    assert api_as(people["zhao"]).get(f"/ownership/conflicts/{overlapping.pk}").status_code == 404


def test_resolving_a_conflict_by_merge(people, api_as, overlapping):
    wang = api_as(people["wang"])
    answer = wang.post(f"/ownership/conflicts/{overlapping.pk}/resolve", {"action": "merge", "keep": "existing"})
    assert answer.status_code == 200 and answer.json()["status"] == "merged"
    twin = overlapping.candidate
    assert api_as(people["li"]).get(f"/customers/{twin.pk}").status_code == 404
    log = wang.get(f"/ownership/changes/customer/{overlapping.existing.pk}").json()
    assert log[-1]["reason"] == "merge: Wuhan Motors Co. → Wuhan Motors Ltd"
    again = wang.post(f"/ownership/conflicts/{overlapping.pk}/resolve", {"action": "dismiss"})
    assert (again.status_code, again.json()["code"]) == (409, "conflict_resolved")


def test_resolving_by_assigning_one_owner(people, api_as, overlapping):
    wang = api_as(people["wang"])
    answer = wang.post(f"/ownership/conflicts/{overlapping.pk}/resolve",
                       {"action": "assign", "owner_id": people["zhang"].pk, "note": "Zhang's account"})
    assert answer.json()["status"] == "assigned"
    assert Customer.objects.get(pk=overlapping.candidate.pk).owner == people["zhang"]
    missing_owner = wang.post(f"/ownership/conflicts/{overlapping.pk}/resolve", {"action": "assign"})
    assert missing_owner.status_code == 400


def test_change_log_of_a_conflict_is_for_managers(people, api_as, overlapping):
    assert api_as(people["wang"]).get(f"/ownership/changes/conflict/{overlapping.pk}").json()[0]["action"] == "created"
    assert api_as(people["li"]).get(f"/ownership/changes/conflict/{overlapping.pk}").status_code == 403
    assert api_as(people["li"]).get(f"/ownership/changes/nothing/{overlapping.pk}").status_code == 404
