"""The same commands with Chinese keywords: the reply is in the keyword's language, otherwise in
the sender's preferred language (Zhang's is Chinese, Wang's English)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from backend.crm.models import Activity
from backend.sales.models import RewardStatus, Sale, Shipment
from sms_gateway.language import error_text as parse_error_text
from sms_gateway.language import help_text, parse
from sms_gateway.models import InboundMessage, OptOut
from sms_gateway.segments import count

pytestmark = pytest.mark.django_db

ZHANG, LI, WANG = "+8613800000001", "+8613800000002", "+8613800000010"
WMS, STRANGER = "+8613800000020", "+8613800000099"
VIN_1, VIN_2 = "LFV3A28K5L3012345", "LFV3A28K7L3012346"


def last_reference() -> str:
    return InboundMessage.objects.latest("pk").reference


def in_chinese(render) -> str:
    with translation.override("zh-hans"):
        return render()


def test_sold_with_a_chinese_keyword_replies_in_chinese(people, text):
    reply = text(ZHANG, f"销售cs75 1 {VIN_2}")

    sale = Sale.objects.get(serial=VIN_2)
    assert reply == f"{sale.reference}：已记录 1 台 CS75，奖励 200（待审批）。今日：已售 1 台，奖励 200。"
    assert sale.reward.amount == 200
    assert count(reply).segments <= 2


@pytest.mark.parametrize("keyword", ["售出", "卖出"])
def test_sold_synonyms(people, text, keyword):
    reply = text(ZHANG, f"{keyword} BCD470 3")

    assert reply == f"{last_reference()}：已记录 3 台 BCD470，奖励 3 × 20 = 60（待审批）。今日：已售 3 台，奖励 60。"


def test_an_english_keyword_from_a_chinese_speaker_gets_english(people, text):
    reply = text(ZHANG, "SOLD BCD470")

    assert reply.startswith(f"{last_reference()}: 1 BCD470 recorded, reward 20")


def test_a_neutral_keyword_follows_the_senders_language(people, text):
    assert text(ZHANG, "?") == "今日：已售 0 台，奖励 0。本月：已售 0 台，奖励 0。"
    assert text(WANG, "?").startswith("Today: ")


def test_a_taken_vin_is_refused_in_chinese(people, text):
    text(ZHANG, f"SOLD CS75 {VIN_1}")
    holder = Sale.objects.get(serial=VIN_1).reference

    reply = text(LI, f"销售 CS75 {VIN_1}")

    expected = in_chinese(lambda: translation.gettext("%(serial)s was already reported (%(reference)s).")
                          % {"serial": VIN_1, "reference": holder})
    assert reply == expected and holder in reply
    assert Sale.objects.filter(serial=VIN_1).count() == 1


def test_unknown_product_suggestions_in_chinese(people, text):
    reply = text(ZHANG, "销售 CS57")

    assert reply.endswith("您是否指 CS75, BCD470？")


def test_ship_and_the_shipment_loop_in_chinese(people, text, outbox):
    reply = text(WMS, "发货 PO-1001 顺丰 SF1234567 预计 +2")

    shipment = Shipment.objects.get(order__number="PO-1001")
    assert reply == f"{shipment.reference}：PO-1001 已发货。已短信通知 {people['zhang']}（+8613800000001）转告客户。"
    assert (shipment.carrier, shipment.tracking) == ("顺丰", "SF1234567")
    assert shipment.eta == timezone.localdate() + timedelta(days=2)
    assert [t.to for t in outbox] == [ZHANG]

    reply = text(ZHANG, "已通知 PO1001")
    shipment.refresh_from_db()
    assert reply == f"PO-1001：已于 {timezone.localtime(shipment.customer_told_at):%H:%M} 通知客户，谢谢。"

    with time_machine.travel(timezone.now() + timedelta(hours=5)):
        reply = text(ZHANG, "签收 PO-1001")
    assert reply.startswith("PO-1001 已到货。从下单到收货：3天5小时")


def test_recv_synonym(people, text):
    text(WMS, "SHIP PO-1002")

    assert text(LI, "到货 PO-1002").startswith("PO-1002 已到货。")


def test_visit_in_chinese(people, text):
    reply = text(ZHANG, "拜访 Wuhan 讨论交货日期")

    activity = Activity.objects.get(reference=last_reference())
    assert reply == f"{activity.reference}：已记录对 Wuhan Motors Ltd 的拜访。"
    assert activity.note == "讨论交货日期"


def test_status_in_chinese_lists_waiting_shipments(people, text):
    text(ZHANG, "销售 BCD470 2")
    text(WMS, "发货 PO-1001")

    assert text(ZHANG, "查询").endswith("待回复“已通知”：PO-1001。")


def test_undo_in_chinese(people, text):
    text(ZHANG, "销售 BCD470")
    reference = last_reference()

    assert text(ZHANG, "撤销") == f"{reference} 已撤销，奖励已取消。"
    assert Sale.objects.get(reference=reference).reward.status == RewardStatus.CANCELLED


def test_help_in_chinese(people, text):
    assert text(ZHANG, "帮助") == in_chinese(help_text)


def test_stop_and_start_in_chinese(people, text):
    assert text(ZHANG, "退订") == "您将不再收到提醒，回复短信照常发送。发送“订阅”或 START 可恢复。"
    assert OptOut.objects.get(phone=ZHANG).is_active
    assert text(ZHANG, "订阅") == "提醒已恢复。发送“退订”或 STOP 可停止。"
    assert not OptOut.objects.get(phone=ZHANG).is_active


def test_an_unknown_sender_is_told_in_both_languages(db, text):
    reply = text(STRANGER, "销售 CS75")

    assert reply == "This number is not registered with Fieldline. 此号码未在 Fieldline 登记。"
    assert count(reply).segments == 1


@pytest.mark.parametrize("body", ["销售", "发货", "拜访 Wuhan", "撤销 abc", "🙂"])
def test_unusable_texts_are_explained_in_chinese(people, text, body):
    reply = text(ZHANG, body)

    expected = in_chinese(lambda: parse_error_text(parse(body, today=timezone.localdate())))
    assert reply == expected
    assert count(reply).segments <= 2
