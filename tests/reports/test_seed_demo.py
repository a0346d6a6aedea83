"""`seed_demo` loads DEMO_DATA.md exactly and never touches a database holding other data."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.db.models.functions import TruncMonth

from backend.crm.models import Contact, Customer
from backend.org.models import User
from backend.sales.models import Order, Product, Sale
from tests.factories import CustomerFactory


def test_people_as_in_the_demo_table(demo_data):
    rows = {
        u.username: (u.get_full_name(), u.role, u.branch and u.branch.code, u.manager and u.manager.username, u.phone)
        for u in User.objects.select_related("branch", "manager")
    }
    assert rows == {
        "zhang": ("Wei Zhang", "rep", "WUH", "wang", "+8613800000001"),
        "li": ("Na Li", "rep", "WUH", "wang", "+8613800000002"),
        "chen": ("Jie Chen", "rep", "SHA", "zhao", "+8613800000003"),
        "wang": ("Fang Wang", "manager", "WUH", "exec", "+8613800000010"),
        "zhao": ("Lei Zhao", "manager", "SHA", "exec", "+8613800000011"),
        "exec": ("Yang Liu", "executive", None, None, "+8613800000012"),
        "wms": ("Warehouse", "logistics", None, None, "+8613800000020"),
    }
    assert all(u.check_password("demo-pass-123") for u in User.objects.all())


def test_products_customers_and_orders(demo_data):
    products = Product.objects.all()
    assert {(p.code, p.division.code, p.serial_rule, p.reward_rules.get().amount_per_unit) for p in products} == {
        ("CS75", "AUTO", "vin", 200), ("UNIK", "AUTO", "vin", 300), ("BCD470", "HOME", "none", 20),
    }
    assert {(c.name, c.phone, c.owner.username) for c in Customer.objects.all()} == {
        ("Wuhan Motors Ltd", "+862787000001", "zhang"), ("Hubei Home Store", "+862787000002", "zhang"),
        ("Optics Valley Trading", "+862787000003", "li"), ("Pudong Auto Mall", "+862150000001", "chen"),
    }
    assert Customer.objects.get(name="Wuhan Motors Ltd").is_key_account
    assert sorted(Contact.objects.values_list("buying_role", flat=True)) == ["decision_maker", "influencer"]
    open_orders = {
        (o.number, o.customer.name, o.rep.username, o.status, o.lines.get().product.code, o.lines.get().quantity)
        for o in Order.objects.filter(number__in=["PO-1001", "PO-1002", "PO-1003"])
    }
    assert open_orders == {
        ("PO-1001", "Wuhan Motors Ltd", "zhang", "confirmed", "CS75", 2),
        ("PO-1002", "Optics Valley Trading", "li", "confirmed", "BCD470", 10),
        ("PO-1003", "Pudong Auto Mall", "chen", "confirmed", "UNIK", 1),
    }


def test_history_has_months_of_sales_for_every_rep_and_a_falling_key_account(demo_data):
    assert set(Sale.objects.values_list("rep__username", flat=True)) == {"zhang", "li", "chen"}
    months = (
        Sale.objects.filter(customer__name="Wuhan Motors Ltd")
        .annotate(month=TruncMonth("sold_at"))
        .values("month")
        .annotate(units=Count("pk"))
        .order_by("month")
    )
    units = [row["units"] for row in months]
    assert len(units) == 6 and units[-4] > units[-3] > units[-2] > units[-1]


def test_refuses_a_database_with_other_data(db):
    CustomerFactory()
    with pytest.raises(CommandError, match="already holds other data"):
        call_command("seed_demo")
    assert not User.objects.filter(username="zhang").exists()


def test_second_run_is_harmless(demo_data, capsys):
    call_command("seed_demo")
    assert "already loaded" in capsys.readouterr().out
    assert Customer.objects.count() == 4


def test_demo_vins_of_the_sms_examples_are_free(demo_data):
    assert not Sale.objects.filter(serial__in=["LFV3A28K5L3012345", "LFV3A28K7L3012346"]).exists()
