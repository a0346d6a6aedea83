"""Who sees what: the one rule, per role."""

import pytest

from backend.crm.models import Customer
from backend.org.scoping import can_manage, scope, team_ids, visible_users
from backend.sales.models import Order, Sale, Shipment
from tests.factories import CustomerFactory, ManagerFactory, RepFactory


def names(queryset):
    return sorted(queryset.values_list("name", flat=True))


def test_rep_sees_only_own_customers(people):
    assert names(scope(Customer.objects.all(), people["zhang"])) == ["Hubei Home Store", "Wuhan Motors Ltd"]
    assert names(scope(Customer.objects.all(), people["li"])) == ["Optics Valley Trading"]


def test_rep_sees_customers_shared_with_them_once(people):
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    wuhan.shared_with.add(people["li"], people["chen"])
    assert names(scope(Customer.objects.all(), people["li"])) == ["Optics Valley Trading", "Wuhan Motors Ltd"]


def test_manager_sees_the_team(people):
    assert names(scope(Customer.objects.all(), people["wang"])) == [
        "Hubei Home Store", "Optics Valley Trading", "Wuhan Motors Ltd",
    ]
    assert names(scope(Customer.objects.all(), people["zhao"])) == ["Pudong Auto Mall"]


def test_manager_sees_every_level_below(db):
    top = ManagerFactory()
    middle = ManagerFactory(manager=top)
    rep = RepFactory(manager=middle)
    customer = CustomerFactory(owner=rep)
    assert team_ids(top) == {top.pk, middle.pk, rep.pk}
    assert list(scope(Customer.objects.all(), top)) == [customer]
    assert can_manage(top, rep) and not can_manage(rep, top)


def test_executive_sees_everything(people):
    assert scope(Customer.objects.all(), people["exec"]).count() == Customer.objects.count() == 4
    assert visible_users(people["exec"]).count() == 7


def test_logistics_sees_orders_and_shipments_only(people):
    wms = people["wms"]
    assert scope(Order.objects.all(), wms).count() == Order.objects.count()
    assert scope(Shipment.objects.all(), wms).count() == Shipment.objects.count()
    assert not scope(Customer.objects.all(), wms).exists()
    assert not scope(Sale.objects.all(), wms).exists()


@pytest.mark.parametrize("model", [Order, Sale, Shipment])
def test_rep_sees_only_own_sales_records(people, model):
    visible = scope(model.objects.all(), people["li"])
    owner_path = model.scope_owner
    assert visible.exists()
    assert set(visible.values_list(owner_path, flat=True)) == {people["li"].pk}


def test_inactive_user_sees_nothing(people):
    zhang = people["zhang"]
    zhang.is_active = False
    assert not scope(Customer.objects.all(), zhang).exists()


def test_visible_users(people):
    assert set(visible_users(people["wang"]).values_list("username", flat=True)) == {"wang", "zhang", "li"}
    assert list(visible_users(people["zhang"]).values_list("username", flat=True)) == ["zhang"]
