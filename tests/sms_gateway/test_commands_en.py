"""Every command, row and example of SMS_COMMANDS.md, in English, through the signed webhook."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from backend.core.models import FieldReport
from backend.crm.models import Activity, DuplicateConflict
from backend.notifications.models import Notification
from backend.sales.models import OrderStatus, RewardStatus, Sale, Shipment
from sms_gateway import segments
from sms_gateway.models import InboundMessage, InboundStatus, OptOut, OutboundMessage, OutboundStatus
from sms_gateway.segments import count

pytestmark = pytest.mark.django_db

ZHANG, LI, CHEN = "+8613800000001", "+8613800000002", "+8613800000003"
WANG, WMS, STRANGER = "+8613800000010", "+8613800000020", "+8613800000099"
VIN_1, VIN_2 = "LFV3A28K5L3012345", "LFV3A28K7L3012346"


def last_inbound() -> InboundMessage:
    return InboundMessage.objects.latest("pk")


def assert_fits(reply: str) -> None:
    assert count(reply).segments <= 2, reply


# ---------------------------------------------------------------- SOLD


def test_sold_with_a_vin_records_the_sale_and_its_reward(people, text):
    reply = text(ZHANG, f"SOLD CS75 {VIN_1}")

    sale = Sale.objects.get(serial=VIN_1)
    assert reply == f"{sale.reference}: 1 CS75 recorded, reward 200 (pending approval). Today: 1 sold, reward 200."
    assert (sale.rep, sale.channel, sale.product.code) == (people["zhang"], "sms", "CS75")
    assert (sale.reward.amount, sale.reward.status) == (Decimal("200"), RewardStatus.PENDING)
    message = last_inbound()
    assert (message.status, message.reference, message.created_object) == (
        InboundStatus.PROCESSED,
        sale.reference,
        sale,
    )
    assert message.user == people["zhang"] and message.reply == reply
    assert sale.history.get().history_door == "sms"


def test_sold_several_units_gives_one_reference_and_reward_per_unit(people, text):
    reply = text(ZHANG, "SOLD BCD470 3")

    sales = Sale.objects.filter(product__code="BCD470", rep=people["zhang"], sold_at__date=timezone.localdate())
    assert sales.count() == 3 and len({s.reference for s in sales}) == 1
    assert (
        reply == f"{sales[0].reference}: 3 BCD470 recorded, reward 3 x 20 = 60 (pending approval). "
        "Today: 3 sold, reward 60."
    )


def test_sold_reply_carries_the_running_total_of_today(people, text):
    text(ZHANG, "SOLD BCD470 2")

    reply = text(ZHANG, f"SALE CS75 {VIN_1}")

    assert reply.endswith("Today: 3 sold, reward 240.")


def test_a_vin_already_reported_is_refused_naming_the_report(people, text):
    text(ZHANG, f"SOLD CS75 {VIN_1}")
    first = Sale.objects.get(serial=VIN_1)

    reply = text(LI, f"sold cs75 {VIN_1}")

    assert reply == f"{VIN_1} was already reported ({first.reference})."
    assert Sale.objects.filter(serial=VIN_1).count() == 1
    assert not Sale.objects.filter(rep=people["li"], sold_at__date=timezone.localdate()).exists()
    assert (last_inbound().status, last_inbound().error) == (InboundStatus.REJECTED, "serial_taken")


def test_a_wrong_vin_check_digit_is_called_a_typo(people, text):
    reply = text(ZHANG, "SOLD CS75 LFV3A28K1L3012345")

    assert reply == "VIN LFV3A28K1L3012345 has a wrong check digit (9th character): please check for a typo."
    assert not Sale.objects.filter(serial="LFV3A28K1L3012345").exists()
    assert last_inbound().error == "bad_vin_check_digit"


def test_a_malformed_vin_is_refused(people, text):
    reply = text(ZHANG, "SOLD CS75 LFV3A28K5L30I2345")

    assert "is not a VIN" in reply and "never I, O or Q" in reply
    assert last_inbound().error == "bad_vin"


def test_a_car_without_a_vin_is_refused(people, text):
    reply = text(ZHANG, "SOLD CS75")

    assert reply == "CS75 needs a serial number (VIN) for each unit."
    assert last_inbound().error == "serial_required"


def test_quantity_and_serials_must_agree(people, text):
    reply = text(ZHANG, f"SOLD CS75 2 {VIN_1}")

    assert reply.startswith("Quantity 2 does not match the number of serials (1).")
    assert "SOLD <product>" in reply
    assert not Sale.objects.filter(serial=VIN_1).exists()


def test_two_vins_make_two_sales(people, text):
    reply = text(ZHANG, f"SOLD CS75 {VIN_1} {VIN_2}")

    assert "2 CS75 recorded, reward 2 x 200 = 400" in reply
    assert Sale.objects.filter(serial__in=[VIN_1, VIN_2]).count() == 2


def test_an_unknown_product_names_the_closest_codes(people, text):
    reply = text(ZHANG, "SOLD CS57 1")

    assert reply.startswith("Unknown product CS57. Did you mean CS75")
    assert last_inbound().error == "unknown_product"


def test_sold_for_one_of_my_customers(people, text):
    text(ZHANG, "SOLD BCD470 2 @Hubei Home")

    assert {s.customer.name for s in Sale.objects.filter(rep=people["zhang"], sold_at__date=timezone.localdate())} == {
        "Hubei Home Store"
    }


def test_sold_to_another_reps_customer_opens_a_conflict_and_leaks_nothing(people, text):
    reply = text(ZHANG, "SOLD BCD470 @+862787000003")  # Li's customer Optics Valley Trading

    sale = Sale.objects.get(reference=last_inbound().reference)
    assert sale.customer is None
    assert "another rep's: your manager will sort it out" in reply and "Optics" not in reply
    assert DuplicateConflict.objects.filter(
        reported_by=people["zhang"], existing__name="Optics Valley Trading"
    ).exists()


def test_sold_by_a_non_rep_is_told_the_role_may_not(people, text):
    assert text(WMS, "SOLD BCD470") == "Only reps report sales."
    assert last_inbound().error == "forbidden_role"


def test_keywords_forgive_case_width_and_separators(people, text):
    text(ZHANG, "  sold,BCD470;2  ")
    text(ZHANG, "ＳＯＬＤ　ＢＣＤ４７０　１")

    assert Sale.objects.filter(rep=people["zhang"], sold_at__date=timezone.localdate()).count() == 3


# ---------------------------------------------------------------- SHIP, OK, RECV


def test_ship_texts_the_orders_rep_at_once_and_tells_the_sender(people, text, outbox):
    reply = text(WMS, "SHIP PO-1001 SF SF1234567 ETA +2")

    shipment = Shipment.objects.get(order__number="PO-1001", tracking="SF1234567")
    assert (
        reply == f"{shipment.reference}: PO-1001 shipped. {people['zhang']} (+8613800000001) was texted "
        "to tell the customer."
    )
    assert (shipment.carrier, shipment.eta) == ("SF", timezone.localdate() + timedelta(days=2))
    assert shipment.reported_by == people["wms"] and shipment.rep_notified_at is not None
    assert shipment.order.status == OrderStatus.SHIPPED
    [notice] = [t for t in outbox if t.to == ZHANG]
    # Zhang reads Chinese: his notice is in his language, whatever language the sender used.
    assert "PO-1001 已发货" in notice.body and "Wuhan Motors Ltd" in notice.body and "已通知 PO-1001" in notice.body
    assert Notification.objects.filter(recipient=people["zhang"], kind="shipment").exists()
    sent = OutboundMessage.objects.get(to=ZHANG, kind="shipment")
    assert (sent.status, sent.provider_sid) == (OutboundStatus.SENT, notice.sid)


def test_ship_by_a_rep_is_refused(people, text):
    assert text(ZHANG, "SHIP PO-1001") == "Only logistics and managers record shipments."
    assert not Shipment.objects.filter(order__number="PO-1001").exists()


def test_ship_of_an_unknown_order(people, text):
    assert text(WMS, "SHIP PO-9999") == "Order PO-9999 not found."


def test_ok_records_when_the_customer_was_told(people, text):
    text(WMS, "SHIP PO-1001 SF SF1234567 ETA +2")

    reply = text(ZHANG, "OK PO1001")

    shipment = Shipment.objects.get(order__number="PO-1001", tracking="SF1234567")
    assert shipment.customer_told_at is not None
    assert reply == f"PO-1001: customer told at {timezone.localtime(shipment.customer_told_at):%H:%M}. Thank you."


def test_ok_by_another_rep_is_refused(people, text):
    text(WMS, "SHIP PO-1001")

    assert text(LI, "OK PO-1001") == "Order PO-1001 not found."  # outside Li's scope: as if missing
    assert Shipment.objects.get(order__number="PO-1001").customer_told_at is None


def test_ok_without_a_shipment(people, text):
    assert text(ZHANG, "OK PO-1001") == "No open shipment on order PO-1001."


def test_recv_records_the_order_to_receipt_time(people, text):
    text(WMS, "SHIP PO-1001 SF SF1234567")
    text(ZHANG, "OK PO-1001")

    with time_machine.travel(timezone.now() + timedelta(days=1, hours=2)):
        reply = text(ZHANG, "DELIVERED po 1001")

    shipment = Shipment.objects.get(order__number="PO-1001")
    assert shipment.received_at is not None and shipment.order.status == OrderStatus.RECEIVED
    assert reply.startswith("PO-1001 received. Order to receipt: 4 d ")  # the demo order is 3 days old


def test_recv_by_logistics(people, text):
    text(WMS, "SHIP PO-1002")

    assert text(WMS, "RECV PO-1002").startswith("PO-1002 received.")


# ---------------------------------------------------------------- VISIT, STATUS, UNDO, HELP


def test_visit_logs_an_activity_on_my_customer(people, text):
    reply = text(ZHANG, "VISIT Wuhan discussed the delivery date")

    activity = Activity.objects.get(reference=last_inbound().reference)
    assert reply == f"{activity.reference}: visit to Wuhan Motors Ltd logged."
    assert (activity.customer.name, activity.note, activity.channel) == (
        "Wuhan Motors Ltd",
        "discussed the delivery date",
        "sms",
    )


def test_visit_to_someone_elses_customer_is_not_found(people, text):
    assert text(ZHANG, "VISIT Optics good talk") == "No customer of yours matches “Optics”."


def test_visit_without_a_note(people, text):
    assert text(ZHANG, "VISIT Wuhan").startswith("The visit note is missing. Use: VISIT <customer> <note>")


def test_status_sums_today_and_the_month_and_lists_waiting_shipments(people, text):
    text(ZHANG, "SOLD BCD470 2")
    text(WMS, "SHIP PO-1001")

    reply = text(ZHANG, "STATUS")

    assert reply.startswith("Today: 2 sold, reward 40. This month: ")
    assert reply.endswith("Waiting for OK: PO-1001.")


def test_question_mark_is_status(people, text):
    assert text(WANG, "?").startswith("Today: 0 sold, reward 0.")  # no keyword language: Wang's English


def test_undo_voids_the_last_report_and_cancels_its_reward(people, text):
    text(ZHANG, f"SOLD CS75 {VIN_1}")
    sale = Sale.objects.get(serial=VIN_1)

    reply = text(ZHANG, "UNDO")

    sale.refresh_from_db()
    assert reply == f"{sale.reference} voided; its reward is cancelled."
    assert sale.voided_at is not None and sale.reward.status == RewardStatus.CANCELLED
    assert [h.voided_at is None for h in sale.history.order_by("history_date")] == [True, False]
    assert text(LI, f"SOLD CS75 {VIN_1}").startswith("S")  # the VIN is free again


def test_undo_a_named_report(people, text):
    text(ZHANG, "SOLD BCD470")
    first = last_inbound().reference
    text(ZHANG, "SOLD BCD470 2")

    assert text(ZHANG, f"UNDO {first}") == f"{first} voided; its reward is cancelled."
    assert Sale.objects.filter(reference=first, voided_at__isnull=False).count() == 1


def test_undo_a_visit(people, text):
    text(ZHANG, "VISIT Hubei new fridges")
    reference = last_inbound().reference

    assert text(ZHANG, "UNDO") == f"{reference} voided."
    assert Activity.objects.get(reference=reference).voided_at is not None


def test_undo_after_30_minutes_is_refused(people, text):
    text(ZHANG, "SOLD BCD470")
    reference = last_inbound().reference

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        reply = text(ZHANG, "UNDO")

    assert reply == f"{reference} is more than 30 minutes old; ask your manager to correct it."
    assert not FieldReport.objects.filter(voided_at__isnull=False).exists()


def test_undo_of_someone_elses_report_is_refused(people, text):
    text(ZHANG, "SOLD BCD470")
    reference = last_inbound().reference

    assert text(LI, f"UNDO {reference}") == f"No report {reference} of yours to undo."
    assert Sale.objects.get(reference=reference).voided_at is None


@pytest.mark.parametrize("keyword", ["HELP", "h", "help please"])
def test_help_lists_the_commands(people, text, keyword):
    reply = text(ZHANG, keyword)

    assert reply.startswith("SMS commands:") and "SOLD <product>" in reply and "SHIP <order>" in reply
    assert_fits(reply)


# ---------------------------------------------------------------- STOP / START


def test_stop_silences_everything_but_replies(people, text, outbox):
    reply = text(ZHANG, "STOP")

    assert reply == "You will get no more alerts. Replies to your texts still come. Text START to resume."
    assert OptOut.objects.get(phone=ZHANG).is_active
    text(WMS, "SHIP PO-1001")
    assert [t.to for t in outbox] == []  # the shipment notice is kept, not sent
    assert OutboundMessage.objects.get(to=ZHANG, kind="shipment").status == OutboundStatus.SUPPRESSED
    assert text(ZHANG, "STATUS").startswith("Today:")  # replies still come


def test_start_resumes(people, text, outbox):
    text(ZHANG, "STOP")

    assert text(ZHANG, "START") == "Alerts resumed. Text STOP to stop them."

    text(WMS, "SHIP PO-1001")
    assert [t.to for t in outbox] == [ZHANG]
    optout = OptOut.objects.get(phone=ZHANG)
    assert not optout.is_active and optout.history.count() == 2
    assert {h.history_door for h in optout.history.all()} == {"sms"}


def test_stop_from_an_unknown_number_is_honoured(db, text):
    assert text(STRANGER, "STOP").startswith("You will get no more alerts.")
    assert OptOut.objects.get(phone=STRANGER).is_active


# ---------------------------------------------------------------- what cannot be used


def test_an_unknown_sender_is_told_politely_and_the_text_kept(people, text):
    reply = text(STRANGER, "SOLD CS75")

    assert "not registered" in reply
    assert_fits(reply)
    message = last_inbound()
    assert (message.status, message.error, message.body, message.user) == (
        InboundStatus.REJECTED,
        "unknown_sender",
        "SOLD CS75",
        None,
    )


def test_an_inactive_user_is_unknown(people, text):
    people["li"].is_active = False
    people["li"].save()

    assert "not registered" in text(LI, "SOLD BCD470")
    assert not Sale.objects.filter(rep=people["li"], sold_at__date=timezone.localdate()).exists()


@pytest.mark.parametrize("body", ["", "   ", "🙂🙂👍", "!!!"])
def test_empty_and_emoji_only_texts_get_the_command_list(people, text, body):
    reply = text(WANG, body)  # no keyword: the reply is in Wang's language

    assert reply.startswith("Your message was empty. Commands: SOLD, SHIP")
    message = last_inbound()
    assert (message.status, message.error, message.body) == (InboundStatus.REJECTED, "empty", body)


def test_an_oversized_text_is_kept_whole_and_refused(people, text):
    body = "SOLD BCD470 " + "x" * 2000

    reply = text(ZHANG, body)

    assert reply.startswith("Your message is too long (2012 characters, limit 1600).")
    assert last_inbound().body == body and last_inbound().error == "too_long"
    assert not Sale.objects.filter(rep=people["zhang"], sold_at__date=timezone.localdate()).exists()


def test_an_unknown_word_gets_the_usage_of_what_it_looked_like(people, text):
    reply = text(ZHANG, "SOLDD CS75")

    assert reply.startswith('Unknown command "SOLDD". Did you mean: SOLD <product>')
    assert_fits(reply)


def test_every_reply_fits_two_segments_and_is_kept(people, text):
    text(ZHANG, f"SOLD CS75 {VIN_1}")
    text(WMS, "SHIP PO-1001 SF SF1234567 ETA +2")
    text(ZHANG, "HELP")
    text(ZHANG, "STATUS")

    inline = OutboundMessage.objects.filter(status=OutboundStatus.SENT_INLINE)
    assert inline.count() == 4
    for reply in inline:
        asked = reply.in_reply_to
        assert reply.is_reply and reply.kind == "reply" and asked.reply == reply.body
        assert (reply.to, reply.user, reply.related) == (asked.sender, asked.user, asked.created_object)
        assert reply.segments == segments.count(reply.body).segments <= 2
        assert reply.created_at is not None and reply.provider_sid is None and reply.attempts == 0
        assert_fits(reply.body)
    assert inline.exclude(related_id="").count() == 2  # the sale's and the shipment's replies name them
