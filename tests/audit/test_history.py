"""Every historical row says who made the change and through which door."""

import pytest
from django.core.management.commands.shell import Command as ShellCommand
from django.utils.module_loading import import_string

from audit.context import Door, acting
from backend.crm.models import Customer
from tests.factories import CustomerFactory, RepFactory


def test_history_records_user_and_door(db):
    rep = RepFactory()
    with acting(user=rep, door=Door.SMS):
        customer = CustomerFactory(owner=rep)
        customer.notes = "Prefers calls after 3pm"
        customer.save()
    rows = list(customer.history.order_by("history_date"))
    assert [r.history_type for r in rows] == ["+", "~"]
    assert all(r.history_user_id == rep.pk and r.history_door == Door.SMS for r in rows)
    assert rows[-1].notes == "Prefers calls after 3pm"


def test_changes_outside_any_door_are_system(db):
    customer = CustomerFactory()
    row = customer.history.get()
    assert row.history_door == Door.SYSTEM and row.history_user is None


def test_user_role_branch_and_manager_are_history(db):
    rep = RepFactory()
    boss = RepFactory(role="manager")
    rep.manager = boss
    rep.role = "manager"
    rep.save()
    latest = rep.history.latest()
    assert (latest.role, latest.manager_id) == ("manager", boss.pk)
    assert not hasattr(latest, "password")


def test_admin_door(admin_client, db):
    customer = CustomerFactory()
    response = admin_client.post(
        f"/admin/crm/customer/{customer.pk}/change/",
        {
            "name": "Renamed Trading", "phone": customer.phone, "owner": customer.owner_id,
            "address": "", "payment_terms_days": 30, "notes": "", "contacts-TOTAL_FORMS": 0,
            "contacts-INITIAL_FORMS": 0, "contacts-MIN_NUM_FORMS": 0, "contacts-MAX_NUM_FORMS": 1000,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    latest = Customer.history.filter(id=customer.pk).latest()
    assert latest.name == "Renamed Trading" and latest.history_door == Door.ADMIN
    assert latest.history_user.is_superuser


@pytest.mark.parametrize("chunk", [1000, 2])  # one copying statement, or several
def test_rows_written_in_bulk_get_the_history_a_save_would_write(db, monkeypatch, chunk):
    monkeypatch.setattr("audit.history.COPY_CHUNK", chunk)
    from audit.history import bulk_create_with_door_history
    from backend.sales.models import Sale
    from tests.factories import ProductFactory, SaleFactory

    ann, bo = RepFactory(), RepFactory()
    product = ProductFactory()
    sales = [SaleFactory.build(rep=rep, product=product, serial=serial) for rep, serial in
             ((ann, "VIN-A"), (bo, "VIN-B"), (ann, "VIN-C"))]
    with acting(user=None, door=Door.SMS):
        bulk_create_with_door_history(sales, Sale, users=[ann, bo, None])

    rows = {row.serial: row for row in Sale.history.all()}
    assert {serial: (row.history_type, row.history_door, row.history_user_id, row.history_change_reason)
            for serial, row in rows.items()} == {
        "VIN-A": ("+", Door.SMS, ann.pk, ""), "VIN-B": ("+", Door.SMS, bo.pk, ""), "VIN-C": ("+", Door.SMS, None, ""),
    }
    for sale in Sale.objects.all():  # each holds what was stored, to the stamp
        row = rows[sale.serial]
        assert (row.id, row.rep_id, row.sync_stamp, row.created_at, row.unit_price, row.reference) == (
            sale.id, sale.rep_id, sale.sync_stamp, sale.created_at, sale.unit_price, sale.reference)


@pytest.mark.parametrize("chunk", [1000, 1])
def test_rows_updated_together_get_the_history_a_save_would_write(db, monkeypatch, chunk):
    monkeypatch.setattr("audit.history.COPY_CHUNK", chunk)
    from audit.history import update_with_door_history
    from backend.sales.models import Order, OrderStatus
    from tests.factories import OrderFactory

    ann, bo = RepFactory(), RepFactory()
    first, second, other = (OrderFactory(status=OrderStatus.CONFIRMED) for _ in range(3))
    before = {pk: (stamp, at) for pk, stamp, at in Order.objects.values_list("pk", "sync_stamp", "updated_at")}
    with acting(user=None, door=Door.SMS):
        update_with_door_history([first, second], Order, users=[ann, bo], status=OrderStatus.SHIPPED)

    assert first.status == second.status == OrderStatus.SHIPPED
    for order, person in ((first, ann), (second, bo)):
        stored = Order.objects.get(pk=order.pk)
        stamp, updated_at = before[order.pk]
        # Moved as a save moves them, so clients pull the change (on PostgreSQL, this test's one
        # transaction gives every write the same stamp).
        assert stored.status == OrderStatus.SHIPPED and stored.sync_stamp >= stamp and stored.updated_at > updated_at
        row = Order.history.filter(id=order.pk).latest()
        assert (row.history_type, row.history_door, row.history_user_id, row.status, row.sync_stamp) == (
            "~", Door.SMS, person.pk, OrderStatus.SHIPPED, stored.sync_stamp)
    assert Order.objects.get(pk=other.pk).status == OrderStatus.CONFIRMED and other.history.count() == 1


def test_history_tables_index_the_record_the_date_and_the_person_only():
    """Every index of a history table is one more write on every change: only what is read."""
    from django.apps import apps
    from simple_history.models import HistoricalChanges

    read_by = {"id", "history_date", "history_user", "history"}  # history: an m2m row's historical row
    extra = {"crm.HistoricalCustomer": {"owner"}}  # audit.selectors: the customers a rep once owned
    historical = [model for model in apps.get_models() if issubclass(model, HistoricalChanges)]
    assert len(historical) > 10
    for model in historical:
        indexed = {field.name for field in model._meta.concrete_fields if field.db_index}
        assert indexed <= read_by | extra.get(model._meta.label, set()), model._meta.label
        assert "id" in indexed, model._meta.label


def test_every_historical_model_is_found_where_its_name_says():
    """`manage.py shell` imports every model by its module and name."""
    for path in ShellCommand().get_auto_imports():
        assert import_string(path).__name__ == path.rsplit(".", 1)[1]
