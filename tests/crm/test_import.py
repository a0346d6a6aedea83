"""Customers and contacts from the reps' spreadsheets: dry run, conflicts, row errors, all or nothing."""

import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from audit.context import Door, acting
from backend.crm.imports import customers_import, dataset_from_file
from backend.crm.models import ConflictStatus, Contact, Customer, DuplicateConflict
from backend.notifications.models import Notification

ZHANG_LIST = (
    "Name,Phone,Region,Is_key_account,Notes\n"
    "Wuhan Motors Co. Ltd,+862787000001,HB,yes,From Zhang's notebook\n"
    "Jianghan Fleet Services,027 8700 0009,HB,no,\n"
)
LI_LIST = (
    "name,phone,owner\n"
    "Wuhan Motors Ltd,+862787000001,li\n"  # Zhang's customer: a conflict
    "Optics Valley Trading,+862787000003,li\n"  # Li's own: an update (nothing changes: skipped)
    "Hankou Appliances,+862787000010,li\n"
)


def csv(text):
    return dataset_from_file("list.csv", text.encode())


def run(by, door=Door.SYSTEM, **kwargs):
    with acting(user=by, door=door):
        return customers_import(by=by, **kwargs)


def test_dry_run_reports_and_saves_nothing(people):
    before = (Customer.objects.count(), DuplicateConflict.objects.count(), Notification.objects.count())
    report = run(people["wang"], customers=csv(LI_LIST), dry_run=True)
    outcome = report.outcomes[0]
    assert (outcome.new, outcome.updated, outcome.skipped) == (2, 0, 1)
    assert [(f.row, f.name, f.matched_on) for f in outcome.conflicts] == [(2, "Wuhan Motors Ltd", "phone")]
    assert report.ok and not report.saved
    assert (Customer.objects.count(), DuplicateConflict.objects.count(), Notification.objects.count()) == before


def test_import_creates_for_the_rep_and_opens_conflicts(people):
    report = run(people["wang"], customers=csv(LI_LIST))
    assert report.saved
    hankou = Customer.objects.get(name="Hankou Appliances")
    assert hankou.owner == people["li"]
    row = hankou.history.get()
    assert (row.history_user, row.history_door, row.history_change_reason) == (people["wang"], Door.SYSTEM, "import")
    conflict = DuplicateConflict.objects.get()
    assert conflict.existing.name == "Wuhan Motors Ltd" and conflict.existing.owner == people["zhang"]
    assert conflict.candidate.owner == people["li"] and conflict.source == "import"
    assert conflict.reported_by == people["li"] and conflict.status == ConflictStatus.OPEN
    assert Notification.objects.filter(recipient=people["wang"], kind="conflict").exists()


def test_a_rep_imports_their_own_list_and_updates_what_they_have(people):
    zhang = people["zhang"]
    report = run(zhang, door=Door.APP, customers=csv(ZHANG_LIST))
    outcome = report.outcomes[0]
    assert (outcome.new, outcome.updated, outcome.conflicts) == (1, 1, [])
    wuhan = Customer.objects.get(phone="+862787000001")
    assert wuhan.name == "Wuhan Motors Co. Ltd" and wuhan.notes == "From Zhang's notebook"
    assert Customer.objects.get(name="Jianghan Fleet Services").phone == "+862787000009"


def test_row_errors_name_the_spreadsheet_row_and_nothing_is_half_imported(people):
    bad = (
        "name,phone,owner,region\n"
        "Good Company,+862787000011,li,HB\n"
        "Bad Phone Co,12,li,HB\n"
        ",+862787000012,li,HB\n"
        "Nowhere Ltd,+862787000013,li,XX\n"
        "Poached Ltd,+862787000014,chen,\n"
    )
    report = run(people["wang"], customers=csv(bad))
    assert not report.ok and not report.saved
    problems = {p.row: " ".join(p.messages) for p in report.outcomes[0].problems}
    assert set(problems) == {3, 4, 5, 6}
    assert "not a phone number" in problems[3]
    assert "name" in problems[4]
    assert "No region “XX”" in problems[5]
    assert "No rep “chen” in your team" in problems[6]
    assert not Customer.objects.filter(name="Good Company").exists()


def test_missing_column_is_a_file_error(people):
    report = run(people["wang"], customers=csv("company,phone\nX,+862787000011\n"))
    assert [p.row for p in report.outcomes[0].problems] == [None]
    assert "name" in report.outcomes[0].problems[0].messages[0]


def test_contacts_may_name_customers_from_the_same_import(people):
    contacts = (
        "customer,name,title,buying_role,is_key,phone\n"
        "Hankou Appliances,Ms. Wu,Owner,Decision maker,yes,13900000201\n"
        "+862787000003,Mr. Xu,Buyer,influencer,,\n"
        "Nobody Trading,Mr. Ma,,,,\n"
    )
    report = run(people["wang"], customers=csv(LI_LIST), contacts=csv(contacts), dry_run=True)
    assert [(o.kind, o.new) for o in report.outcomes] == [("customers", 2), ("contacts", 2)]
    problems = [(p.row, p.messages) for p in report.outcomes[1].problems]
    assert problems == [(4, ["customer: No customer “Nobody Trading”."])]

    report = run(people["wang"], customers=csv(LI_LIST), contacts=csv(contacts.rsplit("Nobody", 1)[0]))
    assert report.saved
    wu = Contact.objects.get(name="Ms. Wu")
    assert (wu.customer.name, wu.buying_role, wu.is_key, wu.phone) == (
        "Hankou Appliances", "decision_maker", True, "+8613900000201")
    assert Contact.objects.get(name="Mr. Xu").customer.name == "Optics Valley Trading"


def test_contacts_outside_the_importers_sight_are_not_found(people):
    report = run(people["zhang"], contacts=csv("customer,name\nOptics Valley Trading,Mr. Spy\n"))
    assert "No customer" in report.outcomes[0].problems[0].messages[0]
    assert not Contact.objects.filter(name="Mr. Spy").exists()


def test_excel_files_are_read_like_csv(people):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "phone", "owner"])
    sheet.append(["Xinzhou Motors", 862787000021, "li"])  # Excel keeps numbers as numbers
    content = io.BytesIO()
    book.save(content)
    report = run(people["wang"], customers=dataset_from_file("list.xlsx", content.getvalue()))
    assert report.saved
    assert Customer.objects.get(name="Xinzhou Motors").phone == "+862787000021"


def test_progress_is_reported_per_row(people):
    ticks = []
    run(people["wang"], customers=csv(LI_LIST), dry_run=True, progress=lambda: ticks.append(1))
    assert len(ticks) == 3


def test_command_dry_run_then_import(people, tmp_path, capsys):
    path = tmp_path / "li.csv"
    path.write_text(LI_LIST, encoding="utf-8-sig")  # as Excel saves CSV
    call_command("import_customers", str(path), "--by", "wang", "--dry-run", verbosity=0)
    out = capsys.readouterr().out
    assert "customers: 2 new, 0 updated, 1 unchanged, 1 conflict(s)" in out
    assert "row 2: Wuhan Motors Ltd" in out and "Dry run: nothing was saved." in out
    assert not Customer.objects.filter(name="Hankou Appliances").exists()

    call_command("import_customers", str(path), "--by", "wang")
    assert "Imported." in capsys.readouterr().out
    assert Customer.objects.filter(name="Hankou Appliances", owner=people["li"]).exists()


def test_command_fails_loudly_on_bad_rows(people, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("name,phone\nBad Phone Co,12\n")
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_customers", str(path), "--by", "wang", "--owner", "li", verbosity=0)
    assert "row 2: phone:" in capsys.readouterr().out


def test_unknown_format_is_refused(people, tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("name\nX\n")
    with pytest.raises(CommandError, match=r"\.csv or \.xlsx"):
        call_command("import_customers", str(path), "--by", "wang")
