"""Sales, rewards, undo and the shipment loop, through the domain services."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import close_old_connections
from django.utils import timezone

from backend.core.errors import ApplicationError, Forbidden, NotFound
from backend.crm.models import DuplicateConflict
from backend.notifications.models import Notification
from backend.sales.models import OrderStatus, Reward, RewardStatus, Sale, Shipment
from backend.sales.selectors import tally
from backend.sales.services import (
    report_undo,
    rewards_approve,
    sale_report,
    shipment_acknowledge,
    shipment_receive,
    shipment_record,
)

VIN = "LFV3A28K5L3012345"
VIN2 = "LFV3A28K7L3012346"


def test_sale_with_vin_earns_the_product_reward(people):
    report = sale_report(rep=people["zhang"], product_code="cs75", serials=[VIN], channel="sms")
    sale = Sale.objects.get(serial=VIN)
    assert report.reference == sale.reference and report.reference.startswith("S")
    assert sale.reward.amount == Decimal("200") and sale.reward.status == RewardStatus.PENDING
    assert report.reward_total == Decimal("200")


def test_quantity_makes_one_sale_per_unit(people):
    report = sale_report(rep=people["zhang"], product_code="BCD470", quantity=3, channel="sms")
    assert Sale.objects.filter(reference=report.reference).count() == 3
    assert report.reward_total == Decimal("60")
    assert tally(user=people["zhang"]).sales_today == 3


@pytest.mark.parametrize(
    ("serials", "quantity", "code"),
    [
        ([], None, "serial_required"),
        (["LFV3A28K6L3012345"], None, "bad_vin_check_digit"),
        (["LFV3A28K5L301234"], None, "bad_vin"),
        (["IFV3A28K5L3012345"], None, "bad_vin"),
        ([VIN], 2, "qty_serial_mismatch"),
        ([VIN, VIN], None, "serial_repeated"),
    ],
)
def test_bad_serials_are_refused_and_nothing_is_recorded(people, serials, quantity, code):
    with pytest.raises(ApplicationError) as refused:
        sale_report(rep=people["zhang"], product_code="CS75", serials=serials, quantity=quantity, channel="sms")
    assert refused.value.code == code
    assert not Sale.objects.filter(rep=people["zhang"], sold_at__gte=timezone.now() - timedelta(minutes=1)).exists()


def test_unknown_product_suggests_close_codes(people):
    with pytest.raises(NotFound) as refused:
        sale_report(rep=people["zhang"], product_code="CS57", channel="sms")
    assert refused.value.code == "unknown_product"
    assert "CS75" in refused.value.extra["suggestions"]


def test_a_serial_is_rewarded_once_and_the_second_sender_learns_the_reference(people):
    first = sale_report(rep=people["zhang"], product_code="CS75", serials=[VIN], channel="sms")
    with pytest.raises(ApplicationError) as refused:
        sale_report(rep=people["li"], product_code="CS75", serials=[VIN], channel="sms")
    assert refused.value.code == "serial_taken"
    assert refused.value.extra["reference"] == first.reference
    assert Sale.objects.filter(serial=VIN).count() == 1


def test_only_reps_report_sales(people):
    with pytest.raises(Forbidden):
        sale_report(rep=people["wms"], product_code="BCD470", channel="sms")


def test_customer_by_name_prefix_and_phone(people):
    by_name = sale_report(rep=people["zhang"], product_code="BCD470", customer_hint="hubei", channel="sms")
    by_phone = sale_report(rep=people["zhang"], product_code="BCD470", customer_hint="+862787000001", channel="sms")
    assert by_name.customer.name == "Hubei Home Store"
    assert by_phone.customer.name == "Wuhan Motors Ltd"


def test_phone_of_another_reps_customer_records_the_sale_and_opens_a_conflict(people):
    report = sale_report(rep=people["li"], product_code="BCD470", customer_hint="+862787000001", channel="sms")
    assert report.customer is None and report.conflict_opened
    conflict = DuplicateConflict.objects.get()
    assert conflict.existing.name == "Wuhan Motors Ltd" and conflict.reported_by == people["li"]
    assert Notification.objects.filter(recipient=people["wang"], kind="conflict").exists()


def test_undo_voids_the_last_report_and_cancels_its_reward(people):
    zhang = people["zhang"]
    report = sale_report(rep=zhang, product_code="CS75", serials=[VIN], channel="sms")
    undone = report_undo(user=zhang)
    sale = Sale.objects.get(serial=VIN)
    assert undone.reference == report.reference
    assert sale.voided_at is not None and sale.reward.status == RewardStatus.CANCELLED
    assert [h.voided_at is None for h in sale.history.order_by("history_date")] == [True, False]
    # The VIN is free again once its sale is void.
    sale_report(rep=zhang, product_code="CS75", serials=[VIN], channel="sms")


def test_undo_refuses_after_thirty_minutes_and_other_peoples_reports(people):
    report = sale_report(rep=people["zhang"], product_code="BCD470", channel="sms")
    with pytest.raises(NotFound):
        report_undo(user=people["li"], reference=report.reference)
    with pytest.raises(ApplicationError) as refused:
        report_undo(user=people["zhang"], now=timezone.now() + timedelta(minutes=31))
    assert refused.value.code == "too_old_to_undo"


def test_shipment_loop_times_every_step(people):
    shipment = shipment_record(actor=people["wms"], order_number="po1001", carrier="SF", tracking="SF1", channel="sms")
    notice = Notification.objects.get(recipient=people["zhang"], kind="shipment")
    assert "PO-1001" in notice.text and "Wuhan Motors Ltd" in notice.text
    assert shipment.order.status == OrderStatus.SHIPPED and shipment.rep_notified_at is not None
    with pytest.raises(Forbidden):
        shipment_acknowledge(rep=people["wang"], order_number="PO-1001")
    shipment_acknowledge(rep=people["zhang"], order_number="PO-1001")
    shipment_receive(user=people["zhang"], order_number="PO1001")
    shipment.refresh_from_db()
    assert shipment.customer_told_at and shipment.received_at
    assert shipment.order.status == OrderStatus.RECEIVED
    assert tally(user=people["zhang"]).awaiting_ok == []


def test_reps_cannot_ship_and_cannot_see_others_orders(people):
    with pytest.raises(Forbidden):
        shipment_record(actor=people["zhang"], order_number="PO-1001", channel="sms")
    with pytest.raises(NotFound):
        shipment_acknowledge(rep=people["li"], order_number="PO-1001")
    assert not Shipment.objects.filter(order__number="PO-1001").exists()


def test_rewards_approve(people):
    sale_report(rep=people["zhang"], product_code="BCD470", quantity=2, channel="sms")
    assert rewards_approve(rewards=Reward.objects.all(), by=people["wang"]) == 2
    assert not Reward.objects.filter(status=RewardStatus.PENDING).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_of_one_serial_leave_one_sale():
    from backend.org.models import User
    from backend.reports import demo

    demo.seed()
    reps = [User.objects.get(username=name) for name in ("zhang", "li")] * 10
    barrier = threading.Barrier(len(reps))
    outcomes: list[str] = []

    def report(rep):
        barrier.wait()
        try:
            sale_report(rep=rep, product_code="CS75", serials=[VIN2], channel="sms")
            outcomes.append("sold")
        except ApplicationError as refused:
            outcomes.append(refused.code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=report, args=(rep,)) for rep in reps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(outcomes)) == ["serial_taken", "sold"] and outcomes.count("sold") == 1
    assert Sale.objects.filter(serial=VIN2, voided_at__isnull=True).count() == 1
    assert Reward.objects.filter(sale__serial=VIN2).count() == 1


@pytest.mark.parametrize(("language", "carrier", "expected"), [
    ("en", "", "PO-1001 shipped, ETA"),
    ("en", "SF", "PO-1001 shipped SF SF1, ETA"),
    ("zh-hans", "", "PO-1001 已发货，预计"),
    ("zh-hans", "SF", "PO-1001 已发货 SF SF1，预计"),
])
def test_the_reps_shipment_notice_reads_well_with_and_without_a_carrier(people, language, carrier, expected):
    people["zhang"].preferred_language = language
    people["zhang"].save(update_fields=["preferred_language"])

    shipment_record(actor=people["wms"], order_number="PO-1001", carrier=carrier, tracking="SF1" if carrier else "",
                    channel="sms")

    assert Notification.objects.get(recipient=people["zhang"], kind="shipment").text.startswith(expected)
