"""The `handover` and `export_ownership` commands: the same services as the API and the admin."""

import csv
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from audit.context import Door
from audit.models import Handover
from backend.crm.models import Customer


def test_handover_command_moves_every_customer_of_a_rep(people, capsys):
    call_command("handover", "--by", "wang", "--from", "zhang", "--to", "li", "--reason", "Zhang left")
    assert set(Customer.objects.filter(name__in=["Wuhan Motors Ltd", "Hubei Home Store"]).values_list(
        "owner__username", flat=True)) == {"li"}
    out = capsys.readouterr().out
    assert "2 customer(s) by Fang Wang" in out and "Wuhan Motors Ltd → Na Li" in out and "PO-1001" in out
    handover = Handover.objects.get()
    assert (handover.by, handover.door) == (people["wang"], Door.SYSTEM)
    row = Customer.objects.get(name="Wuhan Motors Ltd").history.latest()
    assert (row.history_user, row.history_door) == (people["wang"], Door.SYSTEM)


def test_handover_command_names_customers_by_phone_or_name(people):
    call_command("handover", "--by", "wang", "--customer", "+862787000002", "--customer", "Wuhan",
                 "--to", "li", "--reason", "Rebalance")
    assert Customer.objects.filter(owner=people["li"]).count() == 3


def test_handover_command_refuses_clearly(people):
    with pytest.raises(CommandError, match="in your team"):
        call_command("handover", "--by", "wang", "--from", "zhang", "--to", "chen", "--reason", "x")
    with pytest.raises(CommandError, match="No active user"):
        call_command("handover", "--by", "nobody", "--from", "zhang", "--to", "li", "--reason", "x")
    assert not Handover.objects.exists()


def test_export_ownership_as_csv_and_excel(people, capsys, tmp_path):
    call_command("handover", "--by", "wang", "--from", "zhang", "--to", "li", "--reason", "Zhang left")
    capsys.readouterr()
    call_command("export_ownership", "--rep", "zhang")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {(r["customer"], r["owner"], bool(r["to"])) for r in rows} == {
        ("Wuhan Motors Ltd", "zhang", True), ("Hubei Home Store", "zhang", True),
    }
    target = tmp_path / "owners.xlsx"
    call_command("export_ownership", "--by", "wang", "--customer", "Wuhan", "--output", str(target))
    sheet = openpyxl.load_workbook(target).active
    values = list(sheet.values)
    assert values[0][:3] == ("customer_id", "customer", "owner")
    assert [(v[2], v[6], v[8]) for v in values[1:]] == [
        ("zhang", None, None), ("li", "Fang Wang", "handover: Zhang left"),
    ]


def test_export_ownership_within_a_managers_sight(people, capsys):
    call_command("export_ownership", "--by", "zhao")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["customer"] for r in rows} == {"Pudong Auto Mall"}
