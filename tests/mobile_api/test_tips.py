"""Tips: share, tag, rate, comment, use on a deal; ranked by ratings and by how deals ended."""

from backend.crm.models import Opportunity, OpportunityStatus, Tip
from backend.notifications.models import Notification
from tests.factories import OpportunityFactory


def _share(client, title="Total cost of ownership beats a discount", tags=("Fleet",)):
    answer = client.post("/tips", {"title": title, "body": "Show 5-year running costs.", "competitor": "Geely",
                                   "tags": list(tags)})
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_share_rate_comment_tag_and_use(people, api_as):
    zhang, li = api_as(people["zhang"]), api_as(people["li"])
    tip = _share(zhang)
    assert tip["tags"] == ["fleet"] and tip["author"]["id"] == people["zhang"].pk and tip["comments"] == []
    assert Notification.objects.filter(recipient=people["li"], kind="tip", data__tip_id=tip["id"]).exists()
    assert not Notification.objects.filter(recipient=people["chen"], kind="tip").exists()  # another branch
    rated = li.post(f"/tips/{tip['id']}/rating", {"stars": 5}).json()
    assert rated["ratings"] == 1 and rated["stars"] == 3.5  # (5 + 3 x 3) / 4: one vote moves it a little
    assert li.post(f"/tips/{tip['id']}/rating", {"stars": 4}).json()["ratings"] == 1  # once per person
    assert zhang.post(f"/tips/{tip['id']}/rating", {"stars": 5}).json()["code"] == "own_tip"
    comment = li.post(f"/tips/{tip['id']}/comments", {"body": "Worked in Hankou too"})
    assert comment.status_code == 201 and comment.json()["author"]["id"] == people["li"].pk
    assert li.post(f"/tips/{tip['id']}/tags", {"tags": ["Pricing"]}).json()["tags"] == ["fleet", "pricing"]
    deal = Opportunity.objects.filter(owner=people["li"], status="open").first()
    used = li.post(f"/tips/{tip['id']}/uses", {"opportunity_id": str(deal.pk)})
    assert used.status_code == 200
    detail = api_as(people["chen"]).get(f"/tips/{tip['id']}").json()  # tips are company-wide
    assert [c["body"] for c in detail["comments"]] == ["Worked in Hankou too"]


def test_using_another_reps_deal_is_404(people, api_as):
    tip = _share(api_as(people["zhang"]))
    deal = Opportunity.objects.filter(owner=people["li"]).first()
    answer = api_as(people["chen"]).post(f"/tips/{tip['id']}/uses", {"opportunity_id": str(deal.pk)})
    assert answer.status_code == 404


def test_ranking_follows_ratings_and_how_the_deals_ended(people, api_as):
    zhang, li, chen = api_as(people["zhang"]), api_as(people["li"]), api_as(people["chen"])
    winner, loser = _share(zhang, "Winner"), _share(zhang, "Loser")
    _share(zhang, "Unrated")
    for client in (li, chen):
        client.post(f"/tips/{winner['id']}/rating", {"stars": 4})
        client.post(f"/tips/{loser['id']}/rating", {"stars": 4})
    for status, tip in ((OpportunityStatus.WON, winner), (OpportunityStatus.LOST, loser)):
        for _ in range(2):
            deal = OpportunityFactory(customer__owner=people["li"], status=status, close_reason="x",
                                      closed_at="2026-01-01T00:00:00Z")
            li.post(f"/tips/{tip['id']}/uses", {"opportunity_id": str(deal.pk)})
    ranked = [t["title"] for t in chen.get("/tips").json()["items"]]
    assert ranked == ["Winner", "Unrated", "Loser"]
    listed = {t["title"]: t for t in chen.get("/tips").json()["items"]}
    assert (listed["Winner"]["won"], listed["Loser"]["lost"]) == (2, 2)
    page = chen.get("/tips", {"limit": 2}).json()
    rest = chen.get("/tips", {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [t["title"] for t in page["items"] + rest["items"]] == ranked and rest["next_cursor"] is None


def test_search_by_tag_and_text(people, api_as):
    zhang = api_as(people["zhang"])
    _share(zhang, "About fleets", tags=["fleet"])
    _share(zhang, "About fridges", tags=["retail"])
    assert [t["title"] for t in zhang.get("/tips", {"tag": "retail"}).json()["items"]] == ["About fridges"]
    assert [t["title"] for t in zhang.get("/tips", {"q": "fleets"}).json()["items"]] == ["About fleets"]


def test_logistics_sees_no_tips_and_a_missing_tip_is_404(people, api_as):
    tip = _share(api_as(people["zhang"]))
    assert api_as(people["wms"]).get(f"/tips/{tip['id']}").status_code == 404
    Tip.objects.filter(pk=tip["id"]).delete()
    assert api_as(people["li"]).get(f"/tips/{tip['id']}").status_code == 404


def test_list_runs_fixed_queries(people, api_as, django_assert_max_num_queries):
    zhang = api_as(people["zhang"])
    for n in range(5):
        _share(zhang, f"Tip {n}", tags=["a", "b"])
    with django_assert_max_num_queries(4):
        assert len(zhang.get("/tips", {"limit": 200}).json()["items"]) == 5
