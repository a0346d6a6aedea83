"""The admin door: handover form, ownership page and CSV, spreadsheet import, conflict actions."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.context import Door
from audit.models import Handover
from backend.crm.models import ConflictStatus, Customer, DuplicateConflict


@pytest.fixture
def wang_admin(client, people):
    client.force_login(people["wang"])
    return client


def test_handover_form_runs_the_service(people, wang_admin):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    form = wang_admin.get(f"/admin/audit/handover/add/?customers={wuhan.pk}")
    assert form.status_code == 200 and form.context["form"].initial["customers"] == [str(wuhan.pk)]
    response = wang_admin.post("/admin/audit/handover/add/", {
        "customers": [str(wuhan.pk)], "to": [people["li"].pk], "reason": "Zhang left",
    })
    handover = Handover.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/admin/audit/handover/{handover.pk}/change/")
    assert (handover.by, handover.door) == (people["wang"], Door.ADMIN)
    assert Customer.objects.get(pk=wuhan.pk).owner == people["li"]
    assert "Wuhan Motors Ltd" in wang_admin.get(response["Location"]).content.decode()


def test_handover_form_shows_refusals_and_changes_nothing(people, wang_admin):
    response = wang_admin.post("/admin/audit/handover/add/", {"to": [people["li"].pk], "reason": "x"})
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    outside_team = wang_admin.post("/admin/audit/handover/add/", {
        "from_user": people["zhang"].pk, "to": [people["chen"].pk], "reason": "x",
    })
    assert "to" in outside_team.context["form"].errors
    same_owner = wang_admin.post("/admin/audit/handover/add/", {
        "from_user": people["zhang"].pk, "to": [people["zhang"].pk], "reason": "x",
    })
    assert "already belongs to" in same_owner.content.decode()
    assert not Handover.objects.exists()


def test_reps_cannot_open_the_handover_form(client, people):
    client.force_login(people["zhang"])
    assert client.get("/admin/audit/handover/add/").status_code in (302, 403)


def test_customer_actions_lead_to_handover_and_ownership(people, wang_admin):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    chosen = {"_selected_action": [str(wuhan.pk)], "index": 0}
    to_form = wang_admin.post("/admin/crm/customer/", {**chosen, "action": "hand_over"})
    assert to_form["Location"] == f"/admin/audit/handover/add/?customers={wuhan.pk}"
    page = wang_admin.post("/admin/crm/customer/", {**chosen, "action": "show_ownership"}, follow=True)
    assert "Wei Zhang" in page.content.decode() and page.context["lines"][0].customer == wuhan
    exported = wang_admin.post("/admin/crm/customer/", {**chosen, "action": "export_ownership"}, follow=True)
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [(r["customer"], r["owner"]) for r in rows] == [("Wuhan Motors Ltd", "zhang")]


def test_ownership_page_stays_in_the_managers_sight(people, wang_admin):
    pudong = Customer.objects.get(name="Pudong Auto Mall")
    page = wang_admin.get(f"/admin/audit/handover/ownership/?customers={pudong.pk}")
    assert page.context["lines"] == []


def test_owner_changes_only_through_a_handover(people, client):
    client.force_login(people["exec"])  # a superuser may add customers
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    page = client.get(f"/admin/crm/customer/{wuhan.pk}/change/")
    assert 'name="owner"' not in page.content.decode()
    assert 'name="owner"' in client.get("/admin/crm/customer/add/").content.decode()


def test_history_page_shows_the_door(people, wang_admin):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    wang_admin.post("/admin/audit/handover/add/", {"customers": [str(wuhan.pk)], "to": [people["li"].pk],
                                                  "reason": "Zhang left"})
    page = wang_admin.get(f"/admin/crm/customer/{wuhan.pk}/history/").content.decode()
    assert "handover: Zhang left" in page and "<td>Admin</td>" in page and "<td>System</td>" in page


def test_spreadsheet_import_previews_then_imports(people, wang_admin):
    upload = SimpleUploadedFile("li.csv", b"name,phone,owner\nWuhan Motors Ltd,+862787000001,li\n"
                                          b"Hankou Appliances,+862787000010,li\n", content_type="text/csv")
    preview = wang_admin.post("/admin/crm/customer/import/", {"import_file": upload, "format": 0}, follow=True)
    assert preview.status_code == 200
    assert not Customer.objects.filter(name="Hankou Appliances").exists()
    assert any("already served by another rep" in str(m) for m in preview.context["messages"])
    confirm = preview.context["confirm_form"]
    done = wang_admin.post("/admin/crm/customer/process_import/", confirm.initial, follow=True)
    assert done.status_code == 200
    assert Customer.objects.get(name="Hankou Appliances").owner == people["li"]
    conflict = DuplicateConflict.objects.get()
    assert (conflict.source, conflict.candidate.owner) == ("import", people["li"])
    assert Customer.objects.get(name="Hankou Appliances").history.get().history_door == Door.ADMIN


def test_conflict_admin_lists_both_sides_and_merges(people, wang_admin):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    twin = Customer.objects.create(name="Wuhan Motors Co.", owner=people["li"])
    conflict = DuplicateConflict.objects.create(existing=wuhan, candidate=twin, reported_by=people["li"],
                                                source="app", matched_on="name")
    page = wang_admin.get(f"/admin/crm/duplicateconflict/{conflict.pk}/change/").content.decode()
    assert "Wuhan Motors Co." in page and "Wei Zhang" in page and "Na Li" in page
    wang_admin.post("/admin/crm/duplicateconflict/", {
        "_selected_action": [str(conflict.pk)], "action": "merge_keep_existing", "index": 0,
    })
    conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.MERGED and conflict.resolved_by == people["wang"]
    assert Customer.objects.get(pk=twin.pk).merged_into == wuhan


def test_conflict_admin_of_another_team_is_empty(client, people):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    DuplicateConflict.objects.create(existing=wuhan, reported_by=people["li"], source="app", matched_on="name")
    client.force_login(people["zhao"])
    assert client.get("/admin/crm/duplicateconflict/").context["cl"].result_count == 0
