"""Contacts and their buying roles; scoped through their customer."""

from backend.crm.models import Contact, Customer


def test_add_list_and_change_a_contact(people, api_as):
    zhang = api_as(people["zhang"])
    hubei = Customer.objects.get(name="Hubei Home Store")
    made = zhang.post("/contacts", {"customer_id": str(hubei.pk), "name": "Mr. Hu", "phone": "139 0000 0200",
                                    "buying_role": "decision_maker", "is_key": True})
    assert made.status_code == 201, made.content
    contact = made.json()
    assert contact["phone"] == "+8613900000200" and contact["version"] == 1
    listed = zhang.get("/contacts", {"customer_id": str(hubei.pk)}).json()["items"]
    assert [c["name"] for c in listed] == ["Mr. Hu"]
    changed = zhang.patch(f"/contacts/{contact['id']}", {"title": "Owner"}, headers={"If-Match": "1"})
    assert changed.status_code == 200 and changed.json()["title"] == "Owner" and changed.json()["version"] == 2
    stale = zhang.patch(f"/contacts/{contact['id']}", {"title": "Director"}, headers={"If-Match": "1"})
    assert stale.status_code == 412 and stale.json()["current"]["title"] == "Owner"
    bad = zhang.post("/contacts", {"customer_id": str(hubei.pk), "name": "X", "buying_role": "boss"})
    assert bad.status_code == 422


def test_scope_other_rep_404_manager_sees_the_teams(people, api_as):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    gao = Contact.objects.get(name="Mr. Gao Jun")
    for who in ("li", "chen", "zhao"):
        client = api_as(people[who])
        assert client.get(f"/contacts/{gao.pk}").status_code == 404
        assert client.patch(f"/contacts/{gao.pk}", {"title": "x"}).status_code == 404
        assert client.post("/contacts", {"customer_id": str(wuhan.pk), "name": "Spy"}).status_code == 404
        assert client.get("/contacts", {"customer_id": str(wuhan.pk)}).status_code == 404
        assert str(gao.pk) not in [c["id"] for c in client.get("/contacts").json()["items"]]
    wang = api_as(people["wang"])
    assert wang.get(f"/contacts/{gao.pk}").json()["buying_role"] == "decision_maker"
    assert {c["name"] for c in wang.get("/contacts").json()["items"]} == {"Mr. Gao Jun", "Ms. Sun Li"}


def test_a_shared_customer_shows_its_contacts(people, api_as):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    wuhan.shared_with.add(people["li"])
    names = {c["name"] for c in api_as(people["li"]).get("/contacts").json()["items"]}
    assert names == {"Mr. Gao Jun", "Ms. Sun Li"}


def test_me(people, api_as):
    me = api_as(people["li"]).get("/me").json()
    assert (me["username"], me["role"], me["branch"], me["manager"]["id"]) == ("li", "rep", "WUH", people["wang"].pk)
