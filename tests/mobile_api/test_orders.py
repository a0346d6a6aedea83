"""Orders and shipments: the rep tells the customer, confirms receipt; integrations ship."""

import pytest

from backend.notifications.models import Notification
from backend.sales.models import Order, Shipment
from sms_gateway.models import OutboundMessage


@pytest.fixture
def po1001(demo_data):
    return Order.objects.get(number="PO-1001")


def test_warehouse_ships_rep_acknowledges_and_confirms_receipt(people, api_as, po1001):
    wms = api_as(people["wms"])
    shipped = wms.post("/shipments", {"order_number": "po1001", "carrier": "SF", "tracking": "SF1234567",
                                      "eta": "2026-12-01"})
    assert shipped.status_code == 201, shipped.content
    assert Notification.objects.filter(recipient=people["zhang"], kind="shipment").exists()
    assert OutboundMessage.objects.filter(to=people["zhang"].phone, kind="shipment").exists()
    zhang = api_as(people["zhang"])
    order = zhang.get(f"/orders/{po1001.pk}").json()
    assert order["status"] == "shipped" and order["shipments"][0]["tracking"] == "SF1234567"
    assert order["lines"] == [{"product": "CS75", "quantity": 2, "unit_price": "120000.00"}]
    told = zhang.post(f"/orders/{po1001.pk}/acknowledge").json()
    assert told["shipments"][0]["customer_told_at"] is not None
    received = zhang.post(f"/orders/{po1001.pk}/receive").json()
    assert received["status"] == "received" and received["shipments"][0]["received_at"] is not None


def test_acknowledge_without_an_open_shipment_is_a_clear_404(people, api_as, po1001):
    answer = api_as(people["zhang"]).post(f"/orders/{po1001.pk}/acknowledge")
    assert answer.status_code == 404 and answer.json()["code"] == "no_open_shipment"


def test_scope_other_rep_404_manager_sees_the_teams(people, api_as, po1001):
    Shipment.objects.create(order=po1001, carrier="SF", tracking="SF1", shipped_at=po1001.ordered_at)
    for who in ("li", "chen", "zhao"):
        client = api_as(people[who])
        assert client.get(f"/orders/{po1001.pk}").status_code == 404
        assert client.post(f"/orders/{po1001.pk}/acknowledge").status_code == 404
        assert client.post(f"/orders/{po1001.pk}/receive").status_code == 404
        assert "PO-1001" not in [o["number"] for o in client.get("/orders", {"limit": 200}).json()["items"]]
    wang = api_as(people["wang"])
    assert wang.get(f"/orders/{po1001.pk}").status_code == 200
    assert "PO-1001" in [o["number"] for o in wang.get("/orders", {"limit": 200}).json()["items"]]
    # The manager sees it, but only the order's rep says the customer was told.
    assert wang.post(f"/orders/{po1001.pk}/acknowledge").status_code == 403


def test_list_runs_fixed_queries_whatever_the_page_size(people, api_as, django_assert_max_num_queries):
    wang = api_as(people["wang"])
    with django_assert_max_num_queries(8):
        big = wang.get("/orders", {"limit": 200}).json()["items"]
    with django_assert_max_num_queries(8):
        small = wang.get("/orders", {"limit": 2}).json()["items"]
    assert len(big) > len(small) == 2 and all(o["shipments"] for o in big if o["status"] == "received")


def test_a_manager_ships_for_the_team_only(people, api_as):
    wang, zhao = api_as(people["wang"]), api_as(people["zhao"])
    assert zhao.post("/shipments", {"order_number": "PO-1002"}).status_code == 404
    shipped = wang.post("/shipments", {"order_number": "PO-1002", "carrier": "JD"})
    assert shipped.status_code == 201 and shipped.json()["channel"] == "app"
    assert Order.objects.get(number="PO-1002").status == "shipped"
