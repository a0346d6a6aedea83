"""Sales from the app: the same service and duplicate rules as SMS."""

from decimal import Decimal

from backend.crm.models import Customer, DuplicateConflict
from backend.sales.models import Reward, Sale

VIN = "LFV3A28K5L3012345"


def test_report_a_car_sale_with_reward_and_undo_it(people, api_as):
    zhang = api_as(people["zhang"])
    wuhan = Customer.objects.get(name="Wuhan Motors Ltd")
    answer = zhang.post("/sales", {"product": "cs75", "serials": [VIN], "customer_id": str(wuhan.pk)})
    assert answer.status_code == 201, answer.content
    report = answer.json()
    assert report["reference"].startswith("S") and report["reward_total"] == "200.00" and report["quantity"] == 1
    assert report["customer_id"] == str(wuhan.pk) and report["sales"][0]["channel"] == "app"
    assert Sale.objects.get(serial=VIN).history.latest().history_door == "app"
    assert zhang.get("/sales/tally").json()["sales_today"] == 1
    undone = zhang.post("/sales/undo", {})
    assert undone.status_code == 200 and undone.json()["reference"] == report["reference"]
    assert Reward.objects.get(sale__serial=VIN).status == "cancelled"


def test_a_serial_already_reported_is_refused_naming_the_report(people, api_as):
    first = api_as(people["zhang"]).post("/sales", {"product": "CS75", "serials": [VIN]}).json()
    again = api_as(people["li"]).post("/sales", {"product": "CS75", "serials": [VIN]})
    assert again.status_code == 409
    assert again.json()["code"] == "serial_taken" and again.json()["reference"] == first["reference"]


def test_bad_vin_and_unknown_product_are_clear_errors(people, api_as):
    zhang = api_as(people["zhang"])
    assert zhang.post("/sales", {"product": "CS75", "serials": ["LFV3A28K6L3012345"]}).json()["code"] == (
        "bad_vin_check_digit"
    )
    unknown = zhang.post("/sales", {"product": "CS57", "quantity": 1}).json()
    assert unknown["code"] == "unknown_product" and "CS75" in unknown["suggestions"]


def test_another_reps_customer_phone_records_the_sale_and_opens_a_conflict(people, api_as):
    answer = api_as(people["zhang"]).post("/sales", {"product": "BCD470", "quantity": 3, "customer": "+862787000003"})
    body = answer.json()
    assert answer.status_code == 201 and body["conflict_opened"] is True and body["customer_id"] is None
    assert body["reward_total"] == "60.00"
    assert "Optics" not in answer.content.decode()
    conflicts = DuplicateConflict.objects.filter(reported_by=people["zhang"], existing__name="Optics Valley Trading")
    assert conflicts.exists()


def test_scope_other_rep_customer_404_lists_scoped_manager_sees_team(people, api_as):
    optics = Customer.objects.get(name="Optics Valley Trading")
    zhang = api_as(people["zhang"])
    assert zhang.post("/sales", {"product": "BCD470", "customer_id": str(optics.pk)}).status_code == 404
    assert zhang.get("/sales", {"customer_id": str(optics.pk)}).json()["items"] == []
    mine = {s["rep_id"] for s in Sale.objects.filter(pk__in=[
        s["id"] for s in zhang.get("/sales", {"limit": 200}).json()["items"]]).values("rep_id")}
    assert mine == {people["zhang"].pk}
    li_sales = api_as(people["wang"]).get("/sales", {"customer_id": str(optics.pk), "limit": 5}).json()["items"]
    assert len(li_sales) == 5 and api_as(people["chen"]).get("/sales", {"customer_id": str(optics.pk)}).json()[
        "items"] == []
    li_sale = Sale.objects.filter(rep=people["li"]).first()
    assert zhang.post("/sales/undo", {"reference": li_sale.reference}).status_code == 404


def test_managers_do_not_report_sales(people, api_as):
    answer = api_as(people["wang"]).post("/sales", {"product": "BCD470"})
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden_role"
    assert Sale.objects.filter(rep=people["wang"]).count() == 0
    assert Decimal(api_as(people["wang"]).get("/sales/tally").json()["rewards_month"]) >= 0
