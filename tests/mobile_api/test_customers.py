"""Customers: search, create, change with If-Match, duplicates across reps, the whole picture,
the call-centre look-up; every one scoped."""

import uuid

import pytest

from backend.crm.models import Customer, DuplicateConflict
from backend.notifications.models import Notification
from tests.factories import CustomerFactory


def _customer(name):
    return Customer.objects.get(name=name)


def test_rep_lists_and_searches_own_customers_only(people, api_as):
    zhang = api_as(people["zhang"])
    names = [c["name"] for c in zhang.get("/customers").json()["items"]]
    assert names == ["Hubei Home Store", "Wuhan Motors Ltd"]
    assert [c["name"] for c in zhang.get("/customers", {"q": "wuhan motors co., ltd"}).json()["items"]] == [
        "Wuhan Motors Ltd"
    ]
    assert [c["name"] for c in zhang.get("/customers", {"phone": "027 8700 0002"}).json()["items"]] == [
        "Hubei Home Store"
    ]
    assert zhang.get("/customers", {"region": "SH"}).json()["items"] == []
    assert zhang.get("/customers", {"q": "Optics"}).json()["items"] == []  # Li's


def test_manager_sees_the_team_and_executive_everything(people, api_as):
    team = {c["name"] for c in api_as(people["wang"]).get("/customers").json()["items"]}
    assert team == {"Wuhan Motors Ltd", "Hubei Home Store", "Optics Valley Trading"}
    assert len(api_as(people["exec"]).get("/customers").json()["items"]) == 4


@pytest.mark.parametrize("path", ["/customers/{id}", "/customers/{id}/overview"])
def test_another_reps_customer_is_404_and_the_manager_sees_it(people, api_as, path):
    optics = _customer("Optics Valley Trading")
    answer = api_as(people["zhang"]).get(path.format(id=optics.pk))
    assert answer.status_code == 404 and answer.json() == {"detail": "Customer not found.", "code": "not_found"}
    assert api_as(people["zhao"]).get(path.format(id=optics.pk)).status_code == 404
    assert api_as(people["wang"]).get(path.format(id=optics.pk)).status_code == 200
    assert api_as(people["zhang"]).get(path.format(id=uuid.uuid4())).status_code == 404


def test_create_with_a_client_made_id(people, api_as):
    new_id = str(uuid.uuid4())
    answer = api_as(people["zhang"]).post("/customers", {
        "id": new_id, "name": "Jiangxia Motors", "phone": "027-8700 0009", "region": "HB", "latitude": 30.37,
    })
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["id"] == new_id and body["phone"] == "+862787000009" and body["owner"]["id"] == people["zhang"].pk
    customer = Customer.objects.get(pk=new_id)
    assert customer.history.latest().history_door == "app"
    again = api_as(people["zhang"]).post("/customers", {"id": new_id, "name": "Something else"})
    assert again.status_code == 409


def test_duplicate_of_another_reps_customer_answers_409_and_opens_a_conflict(people, api_as):
    answer = api_as(people["li"]).post("/customers", {"name": "Wuhan Motors Co., Ltd.", "phone": "+862799999999"})
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "duplicate_customer" and set(body) == {"detail", "code", "conflict_id"}
    assert "Zhang" not in body["detail"] and "+862787000001" not in str(body)
    conflict = DuplicateConflict.objects.get(pk=body["conflict_id"])
    assert conflict.existing.name == "Wuhan Motors Ltd" and conflict.reported_by == people["li"]
    assert Notification.objects.filter(recipient=people["wang"], kind="conflict").exists()
    assert not Customer.objects.filter(phone="+862799999999").exists()


def test_editing_into_a_duplicate_answers_409(people, api_as):
    hubei = _customer("Hubei Home Store")
    answer = api_as(people["zhang"]).patch(f"/customers/{hubei.pk}", {"phone": "+862787000003"})  # Li's number
    assert answer.status_code == 409 and answer.json()["code"] == "duplicate_customer"


def test_update_with_if_match_and_a_stale_version_gets_412_with_the_current_record(people, api_as):
    zhang = api_as(people["zhang"])
    hubei = _customer("Hubei Home Store")
    first = zhang.patch(f"/customers/{hubei.pk}", {"notes": "Opens at 9"}, headers={"If-Match": '"1"'})
    assert first.status_code == 200 and first.json()["version"] == 2 and first.json()["notes"] == "Opens at 9"
    stale = zhang.patch(f"/customers/{hubei.pk}", {"notes": "Closed Mondays"}, headers={"If-Match": "1"})
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"
    assert stale.json()["current"]["notes"] == "Opens at 9" and stale.json()["current"]["version"] == 2
    assert _customer("Hubei Home Store").notes == "Opens at 9"


def test_another_reps_customer_cannot_be_changed(people, api_as):
    optics = _customer("Optics Valley Trading")
    assert api_as(people["zhang"]).patch(f"/customers/{optics.pk}", {"notes": "x"}).status_code == 404
    assert api_as(people["wang"]).patch(f"/customers/{optics.pk}", {"notes": "Team note"}).status_code == 200


def test_manager_creates_a_customer_for_a_rep_of_the_team_only(people, api_as):
    wang = api_as(people["wang"])
    made = wang.post("/customers", {"name": "Hankou Fleet", "owner_id": people["li"].pk})
    assert made.status_code == 201 and made.json()["owner"]["id"] == people["li"].pk
    assert wang.post("/customers", {"name": "Pudong Two", "owner_id": people["chen"].pk}).status_code == 404
    assert api_as(people["zhang"]).post("/customers", {"name": "X", "owner_id": people["li"].pk}).status_code == 403


def test_overview_shows_the_whole_customer_and_its_past_owners(people, api_as):
    wuhan = _customer("Wuhan Motors Ltd")
    wuhan.owner = people["li"]
    wuhan.save()
    wuhan.owner = people["zhang"]
    wuhan.save()
    body = api_as(people["zhang"]).get(f"/customers/{wuhan.pk}/overview").json()
    assert body["customer"]["name"] == "Wuhan Motors Ltd"
    assert {(c["name"], c["buying_role"]) for c in body["contacts"]} == {
        ("Mr. Gao Jun", "decision_maker"), ("Ms. Sun Li", "influencer"),
    }
    assert body["open_opportunities"] and all(o["status"] == "open" for o in body["open_opportunities"])
    assert "PO-1001" in [o["number"] for o in body["orders"]]
    assert body["activities"] and body["sales"] and body["units_sold"] > 0
    assert [p["owner"]["id"] for p in body["owners"]] == [people["zhang"].pk, people["li"].pk, people["zhang"].pk]
    assert body["owners"][0]["end"] == body["owners"][1]["start"] and body["owners"][-1]["end"] is None


def test_lookup_by_phone_finds_the_customer_or_its_contact(people, api_as):
    zhang = api_as(people["zhang"])
    by_customer = zhang.get("/customers/lookup", {"phone": "027-87000001"}).json()
    assert by_customer["overview"]["customer"]["name"] == "Wuhan Motors Ltd" and by_customer["matched_contact"] is None
    by_contact = zhang.get("/customers/lookup", {"phone": "13900000102"}).json()
    assert by_contact["matched_contact"]["name"] == "Ms. Sun Li"
    assert by_contact["overview"]["customer"]["name"] == "Wuhan Motors Ltd"
    assert zhang.get("/customers/lookup", {"phone": "+862787000003"}).status_code == 404  # Li's
    assert api_as(people["wang"]).get("/customers/lookup", {"phone": "+862787000003"}).status_code == 200


def test_list_pages_with_a_cursor_and_a_fixed_number_of_queries(people, api_as, django_assert_max_num_queries):
    for n in range(30):
        CustomerFactory(owner=people["zhang"], name=f"Zhang customer {n:02d}")
    zhang = api_as(people["zhang"])
    seen, cursor = [], None
    with django_assert_max_num_queries(4):
        page = zhang.get("/customers", {"limit": 200}).json()
    assert len(page["items"]) == 32
    with django_assert_max_num_queries(4):
        zhang.get("/customers", {"limit": 5})
    while True:
        page = zhang.get("/customers", {"limit": 7, **({"cursor": cursor} if cursor else {})}).json()
        seen += [c["name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 32
    assert zhang.get("/customers", {"cursor": "garbage!"}).json()["code"] == "bad_cursor"


def test_invalid_input_is_422_with_field_errors(people, api_as):
    answer = api_as(people["zhang"]).post("/customers", {"name": "", "latitude": 123})
    body = answer.json()
    assert answer.status_code == 422 and body["code"] == "invalid"
    assert {e["loc"][-1] for e in body["errors"]} == {"name", "latitude"}
