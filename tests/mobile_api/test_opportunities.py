"""Deals: open, change, move through stages (time in stage kept), close; scoped."""

from backend.crm.models import Customer, Opportunity, Stage, StageEntry


def _stages(division="AUTO"):
    return list(Stage.objects.filter(division__code=division).order_by("order"))


def _open_deal(people, api_as, who="zhang"):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    answer = api_as(people[who]).post("/opportunities", {
        "customer_id": str(wuhan.pk), "name": "Taxi fleet", "stage_id": _stages()[0].pk, "amount": "1440000",
        "expected_close": "2027-01-15",
    })
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_open_move_and_win_a_deal(people, api_as):
    deal = _open_deal(people, api_as)
    assert deal["stage"]["name"] == "Lead" and deal["owner"]["id"] == people["zhang"].pk and deal["version"] == 1
    zhang = api_as(people["zhang"])
    moved = zhang.post(f"/opportunities/{deal['id']}/stage", {"stage_id": _stages()[2].pk}, headers={"If-Match": "1"})
    assert moved.status_code == 200 and moved.json()["stage"]["name"] == "Test drive"
    entries = list(StageEntry.objects.filter(opportunity_id=deal["id"]).order_by("entered_at"))
    assert [e.stage.name for e in entries] == ["Lead", "Test drive"]
    assert entries[0].left_at is not None and entries[1].left_at is None and entries[1].by == people["zhang"]
    won = zhang.post(f"/opportunities/{deal['id']}/close", {"outcome": "won"})
    assert won.json()["status"] == "won" and won.json()["closed_at"]
    assert StageEntry.objects.get(opportunity_id=deal["id"], stage__name="Test drive").left_at is not None
    again = zhang.post(f"/opportunities/{deal['id']}/stage", {"stage_id": _stages()[3].pk})
    assert again.status_code == 409 and again.json()["code"] == "opportunity_closed"


def test_lost_and_abandoned_need_a_reason(people, api_as):
    deal = _open_deal(people, api_as)
    zhang = api_as(people["zhang"])
    answer = zhang.post(f"/opportunities/{deal['id']}/close", {"outcome": "lost"})
    assert answer.status_code == 400 and answer.json()["code"] == "reason_required"
    lost = zhang.post(f"/opportunities/{deal['id']}/close", {"outcome": "abandoned", "reason": "Budget frozen"})
    assert lost.json()["status"] == "abandoned" and lost.json()["close_reason"] == "Budget frozen"


def test_a_stage_of_another_division_is_refused(people, api_as):
    deal = _open_deal(people, api_as)
    answer = api_as(people["zhang"]).post(f"/opportunities/{deal['id']}/stage", {"stage_id": _stages("HOME")[1].pk})
    assert answer.status_code == 400 and answer.json()["code"] == "stage_other_division"


def test_stale_version_gets_412_with_the_current_deal(people, api_as):
    deal = _open_deal(people, api_as)
    zhang = api_as(people["zhang"])
    changed = zhang.patch(f"/opportunities/{deal['id']}", {"amount": "1500000"}, headers={"If-Match": "1"})
    assert changed.status_code == 200
    stale = zhang.patch(f"/opportunities/{deal['id']}", {"next_step": "Call"}, headers={"If-Match": "1"})
    assert stale.status_code == 412 and stale.json()["current"]["amount"] == "1500000.00"


def test_scope_other_rep_404_manager_sees_and_moves_the_teams(people, api_as):
    deal = _open_deal(people, api_as)
    li, zhao, wang = api_as(people["li"]), api_as(people["zhao"]), api_as(people["wang"])
    for client in (li, zhao):
        assert client.get(f"/opportunities/{deal['id']}").status_code == 404
        assert client.post(f"/opportunities/{deal['id']}/stage", {"stage_id": _stages()[1].pk}).status_code == 404
        assert client.post(f"/opportunities/{deal['id']}/close", {"outcome": "won"}).status_code == 404
        assert client.patch(f"/opportunities/{deal['id']}", {"name": "x"}).status_code == 404
    assert deal["id"] in [d["id"] for d in wang.get("/opportunities", {"limit": 200}).json()["items"]]
    assert deal["id"] not in [d["id"] for d in li.get("/opportunities", {"limit": 200}).json()["items"]]
    assert wang.post(f"/opportunities/{deal['id']}/stage", {"stage_id": _stages()[1].pk}).status_code == 200
    optics = Customer.objects.get(name="Optics Valley Trading")
    refused = api_as(people["zhang"]).post("/opportunities", {
        "customer_id": str(optics.pk), "name": "x", "stage_id": _stages()[0].pk, "amount": "1"})
    assert refused.status_code == 404


def test_list_filters_and_stays_at_fixed_queries(people, api_as, django_assert_max_num_queries):
    zhang = api_as(people["zhang"])
    with django_assert_max_num_queries(4):
        page = zhang.get("/opportunities", {"status": "open", "limit": 200}).json()
    mine = Opportunity.objects.filter(owner=people["zhang"], status="open").count()
    assert len(page["items"]) == mine and all(d["status"] == "open" for d in page["items"])
    stages = zhang.get("/opportunities/stages", {"division": "AUTO"}).json()
    assert [s["name"] for s in stages] == ["Lead", "Qualified", "Test drive", "Negotiation", "Contract"]
