"""Visits: check-in with a judged location, check-out; calls and notes; scoped."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.crm.models import Activity, Customer
from backend.crm.services import FAR_FROM_CUSTOMER_M, STALE_FIX_AFTER

WUHAN = (30.5928, 114.3055)


def _check_in(client, customer, latitude, longitude, accuracy=15.0, age=timedelta(0), **extra):
    location = {"latitude": latitude, "longitude": longitude, "accuracy_m": accuracy,
                "fixed_at": (timezone.now() - age).isoformat()}
    return client.post("/activities/check-in", {"customer_id": str(customer.pk), "location": location, **extra})


@pytest.fixture
def wuhan(demo_data):
    return Customer.objects.get(name="Wuhan Motors Ltd")


def test_check_in_at_the_customer_is_ok_and_check_out_ends_the_visit(people, api_as, wuhan):
    zhang = api_as(people["zhang"])
    answer = _check_in(zhang, wuhan, 30.5931, 114.3049, note="Quarterly review")
    assert answer.status_code == 201, answer.content
    visit = answer.json()
    assert visit["location_flag"] == "ok" and visit["distance_m"] < 100 and visit["reference"].startswith("V")
    assert visit["kind"] == "visit" and visit["channel"] == "app"
    out = zhang.post(f"/activities/{visit['id']}/check-out", {"note": "Wants a UNI-K test drive"})
    assert out.status_code == 200 and out.json()["checked_out_at"]
    assert out.json()["note"] == "Quarterly review\nWants a UNI-K test drive"
    assert zhang.post(f"/activities/{visit['id']}/check-out", {}).json()["code"] == "already_checked_out"


def test_far_stale_and_suspicious_fixes_are_kept_but_flagged(people, api_as, wuhan):
    zhang = api_as(people["zhang"])
    far = _check_in(zhang, wuhan, 30.6200, 114.3055).json()  # 3 km north
    assert far["location_flag"] == "far" and far["distance_m"] > FAR_FROM_CUSTOMER_M and far["latitude"] == 30.62
    stale = _check_in(zhang, wuhan, *WUHAN, age=STALE_FIX_AFTER + timedelta(minutes=1)).json()
    assert stale["location_flag"] == "stale"
    mocked = _check_in(zhang, wuhan, *WUHAN, accuracy=0).json()
    assert mocked["location_flag"] == "suspicious"
    assert Activity.objects.filter(location_flag__in=["far", "stale", "suspicious"], rep=people["zhang"]).count() == 3


def test_an_impossible_journey_since_the_last_check_in_is_suspicious(people, api_as, wuhan):
    zhang = api_as(people["zhang"])
    assert _check_in(zhang, wuhan, *WUHAN).json()["location_flag"] == "ok"
    pudong = Customer.objects.get(name="Pudong Auto Mall")
    pudong.owner = people["zhang"]
    pudong.save()
    # Wuhan to Shanghai (~690 km) a minute later.
    assert _check_in(zhang, pudong, 31.2304, 121.5440).json()["location_flag"] == "suspicious"


def test_check_in_without_location_or_customer_coordinates_is_not_judged(people, api_as, wuhan):
    zhang = api_as(people["zhang"])
    bare = zhang.post("/activities/check-in", {"customer_id": str(wuhan.pk)}).json()
    assert bare["location_flag"] == "" and bare["latitude"] is None
    hubei = Customer.objects.get(name="Hubei Home Store")
    hubei.latitude = hubei.longitude = None
    hubei.save()
    unjudged = _check_in(zhang, hubei, 30.58, 114.27).json()
    assert unjudged["location_flag"] == "" and unjudged["distance_m"] is None and unjudged["latitude"] == 30.58


def test_log_a_call_with_a_contact(people, api_as, wuhan):
    contact = wuhan.contacts.get(name="Ms. Sun Li")
    answer = api_as(people["zhang"]).post("/activities", {
        "customer_id": str(wuhan.pk), "kind": "call", "note": "Confirmed delivery", "contact_id": str(contact.pk)})
    assert answer.status_code == 201 and answer.json()["contact_id"] == str(contact.pk)


def test_scope_other_rep_404_manager_sees_the_teams(people, api_as, wuhan):
    visit = _check_in(api_as(people["zhang"]), wuhan, *WUHAN).json()
    li, zhao, wang = api_as(people["li"]), api_as(people["zhao"]), api_as(people["wang"])
    for client in (li, zhao):
        assert client.get(f"/activities/{visit['id']}").status_code == 404
        assert client.post(f"/activities/{visit['id']}/check-out", {}).status_code == 404
        assert _check_in(client, wuhan, *WUHAN).status_code == 404
    assert wang.get(f"/activities/{visit['id']}").status_code == 200
    listed = wang.get("/activities", {"customer_id": str(wuhan.pk), "limit": 200}).json()["items"]
    assert visit["id"] in [a["id"] for a in listed]
    # A manager sees the visit but only the rep who checked in checks out.
    assert wang.post(f"/activities/{visit['id']}/check-out", {}).status_code == 403


def test_list_is_newest_first_with_fixed_queries(people, api_as, django_assert_max_num_queries):
    zhang = api_as(people["zhang"])
    with django_assert_max_num_queries(4):
        items = zhang.get("/activities", {"limit": 200}).json()["items"]
    times = [a["occurred_at"] for a in items]
    assert times == sorted(times, reverse=True) and {a["rep"]["id"] for a in items} == {people["zhang"].pk}
