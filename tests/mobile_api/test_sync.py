"""`GET /sync`: a stable server cursor, pages, tombstones, and never a row skipped."""

import threading

import pytest
from django.db import connection, transaction

from backend.core.sync import tombstone_record
from backend.crm.models import Contact, Customer
from backend.notifications.services import notify
from backend.org.scoping import viewer_ids
from backend.sales.models import Sale
from mobile_api.sync import TABLES


def _pull_all(client, cursor=None, limit=500):
    """Every page of one pull: {table: {bucket: [ids]}} and the cursor to keep."""
    seen = {t.name: {"created": [], "updated": [], "deleted": []} for t in TABLES}
    while True:
        answer = client.get("/sync", {"limit": limit, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.content
        body = answer.json()
        for table, changes in body["changes"].items():
            for bucket in ("created", "updated"):
                seen[table][bucket] += [row["id"] for row in changes[bucket]]
            seen[table]["deleted"] += changes["deleted"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return seen, cursor


def test_first_pull_pages_through_exactly_what_the_rep_sees(people, api_as):
    zhang = api_as(people["zhang"])
    paged, _ = _pull_all(zhang, limit=37)
    whole, _ = _pull_all(zhang, limit=500)
    assert paged == whole
    mine = {str(pk) for pk in Customer.objects.filter(owner=people["zhang"]).values_list("pk", flat=True)}
    assert set(whole["customers"]["created"]) == mine
    sales = {str(pk) for pk in Sale.objects.filter(rep=people["zhang"]).values_list("pk", flat=True)}
    assert set(whole["sales"]["created"]) == sales and len(whole["sales"]["created"]) == len(sales)
    assert not set(whole["sales"]["created"]) & {str(pk) for pk in Sale.objects.exclude(rep=people["zhang"])
                                                  .values_list("pk", flat=True)}


def test_manager_pulls_the_teams_records(people, api_as):
    whole, _ = _pull_all(api_as(people["wang"]))
    team = {str(pk) for pk in Customer.objects.filter(owner__manager=people["wang"]).values_list("pk", flat=True)}
    assert set(whole["customers"]["created"]) == team


@pytest.mark.django_db(transaction=True)
def test_next_pull_has_only_what_changed_since_the_cursor(people, api_as):
    zhang = api_as(people["zhang"])
    _, cursor = _pull_all(zhang)
    nothing, cursor = _pull_all(zhang, cursor)
    assert not any(ids for table in nothing.values() for ids in table.values())
    hubei = Customer.objects.get(name="Hubei Home Store")
    zhang.patch(f"/customers/{hubei.pk}", {"notes": "New hours"})
    notice = notify(recipient=people["zhang"], kind="alert", text="Falling volume", sms=False)
    Customer.objects.filter(name="Optics Valley Trading").update(notes="not Zhang's business")
    changed, cursor = _pull_all(zhang, cursor)
    assert changed["customers"]["updated"] == [str(hubei.pk)]
    assert changed["notifications"]["updated"] == [str(notice.pk)]
    assert changed["contacts"]["updated"] == [] and changed["sales"]["updated"] == []
    zhang.post(f"/notifications/{notice.pk}/read")  # a one-statement update moves the stamp too
    read, _ = _pull_all(zhang, cursor)
    assert read["notifications"]["updated"] == [str(notice.pk)]


@pytest.mark.django_db(transaction=True)
def test_a_customer_handed_over_is_a_tombstone_for_the_old_owner(people, api_as):
    zhang, li, wang = api_as(people["zhang"]), api_as(people["li"]), api_as(people["wang"])
    cursors = {name: _pull_all(client)[1] for name, client in (("zhang", zhang), ("li", li), ("wang", wang))}
    hubei = Customer.objects.get(name="Hubei Home Store")
    with transaction.atomic():  # what the handover service does
        before = viewer_ids(hubei)
        hubei.owner = people["li"]
        hubei.save()
        tombstone_record(instances=[hubei, *Contact.objects.filter(customer=hubei)], user_ids=before)
    old, _ = _pull_all(zhang, cursors["zhang"])
    assert old["customers"]["deleted"] == [str(hubei.pk)] and old["customers"]["updated"] == []
    new, _ = _pull_all(li, cursors["li"])
    assert new["customers"]["updated"] == [str(hubei.pk)] and new["customers"]["deleted"] == []
    manager, _ = _pull_all(wang, cursors["wang"])  # still in the manager's team
    assert manager["customers"]["updated"] == [str(hubei.pk)] and manager["customers"]["deleted"] == []


def test_sync_runs_a_fixed_number_of_queries_whatever_the_page_size(people, api_as, django_assert_max_num_queries):
    zhang = api_as(people["zhang"])
    zhang.get("/me")  # the device's first "last seen" write is not the pull's
    hubei = Customer.objects.get(name="Hubei Home Store")
    tombstone_record(instances=[hubei], user_ids=[people["zhang"].pk])
    # Auth 1, transaction 2, horizon 1, one per table, prefetches 4 (order lines and their products,
    # shipments, tip tags), tombstones and the check of what is still seen 2.
    budget = 1 + 2 + 1 + len(TABLES) + 4 + 2
    for limit in (1, 20, 500):
        with django_assert_max_num_queries(budget):
            assert zhang.get("/sync", {"limit": limit}).status_code == 200


def test_a_bad_cursor_is_a_clear_400(people, api_as):
    answer = api_as(people["zhang"]).get("/sync", {"cursor": "eyJub3BlIjoxfQ"})
    assert answer.status_code == 400 and answer.json()["code"] == "bad_cursor"


def test_another_reps_records_never_come_and_scope_is_the_one_rule(people, api_as):
    whole, _ = _pull_all(api_as(people["chen"]))
    assert set(whole["customers"]["created"]) == {str(Customer.objects.get(name="Pudong Auto Mall").pk)}
    assert whole["contacts"]["created"] == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_a_long_transaction_commits_late_is_not_skipped(people, api_as):
    """Writer A takes its transaction id, writes, and commits only after the client pulled."""
    zhang = api_as(people["zhang"])
    _, cursor = _pull_all(zhang)
    hubei = Customer.objects.get(name="Hubei Home Store")
    written, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                Customer.objects.get(pk=hubei.pk).save(update_fields=["notes"])
                written.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert written.wait(10)
    notify(recipient=people["zhang"], kind="alert", text="committed first", sms=False)
    during, cursor = _pull_all(zhang, cursor)  # A's row is not visible yet
    assert str(hubei.pk) not in during["customers"]["updated"]
    release.set()
    writer.join()
    after, _ = _pull_all(zhang, cursor)
    assert str(hubei.pk) in after["customers"]["updated"]
