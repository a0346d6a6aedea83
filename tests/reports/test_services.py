import asyncio
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import translation

from backend.notifications.models import Notification
from backend.reports import services
from backend.reports.models import Alert, AlertKind, ForecastSnapshot
from backend.reports.selectors import add_months
from sms_gateway import segments
from sms_gateway.models import OutboundMessage, OutboundStatus
from sms_gateway.optouts import optout_set
from tests.reports.conftest import NOW, TODAY

pytestmark = pytest.mark.django_db(transaction=False)


def _notices(user, kind):
    return list(Notification.objects.filter(recipient=user, kind=kind).values_list("text", flat=True))


# --- forecast snapshots ------------------------------------------------------------------------


def test_a_forecast_is_snapshotted_once_per_month(world):
    snapshot = {(s.owner.username, s.weighted, s.deals) for s in ForecastSnapshot.objects.select_related("owner")}
    assert snapshot == {("a", D("23000"), 2), ("b", D("36000"), 1)}
    world.o4.amount = D("1")
    world.o4.save()
    assert services.forecast_snapshot_take(period=date(2025, 6, 1)) == 0
    assert ForecastSnapshot.objects.get(owner=world.b).weighted == D("36000")
    assert services.forecast_snapshot_take(period=date(2025, 7, 1)) == 1  # O3, Ben, 30000 x 10%
    assert ForecastSnapshot.objects.get(period=date(2025, 7, 1)).weighted == D("3000")


# --- key accounts falling: the demo's Wuhan Motors Ltd -----------------------------------------


def test_the_demo_falling_key_account_is_flagged_to_zhang_and_wang_once_a_month(demo_data, people):
    flagged = services.alerts_falling_accounts()
    assert [(a.kind, a.customer.name, a.owner.username, a.data["units"]) for a in flagged] == [
        (AlertKind.FALLING_ACCOUNT, "Wuhan Motors Ltd", "zhang", [9, 7, 5, 3]),
    ]
    for name in ("zhang", "wang"):
        (text,) = _notices(people[name], "falling_account")
        assert "Wuhan Motors Ltd" in text
        assert "9→7→5→3" in text
    assert _notices(people["li"], "falling_account") == _notices(people["zhao"], "falling_account") == []
    assert OutboundMessage.objects.filter(to=people["wang"].phone, kind="falling_account").count() == 1

    assert services.alerts_falling_accounts() == []  # again this month: nothing new
    assert Notification.objects.filter(kind="falling_account").count() == 2


def test_the_same_account_is_flagged_again_the_next_month(demo_data, people):
    services.alerts_falling_accounts()
    next_month = add_months(date.today(), 1)
    with time_machine.travel(datetime.combine(next_month, datetime.min.time()).replace(
            hour=12, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        # Last month had no sales at all: still falling, and a new month's alert.
        assert [a.customer.name for a in services.alerts_falling_accounts()] == ["Wuhan Motors Ltd"]
    assert Alert.objects.filter(kind=AlertKind.FALLING_ACCOUNT).count() == 2


# --- stalled deals and stakeholder gaps ---------------------------------------------------------


def test_stalled_deals_go_to_their_owners_once_a_week(world, clock):
    flagged = services.alerts_stalled_deals()
    assert sorted((a.opportunity.name, a.owner.username, a.period) for a in flagged) == [
        ("O4", "b", "2025-W25"), ("O5", "c", "2025-W25"),
    ]
    assert _notices(world.b, "stalled_deals") == ["1 of your deals stalled: O4. Advance or abandon them in the app."]
    assert _notices(world.c, "stalled_deals") == ["1 of your deals stalled: O5. Advance or abandon them in the app."]
    assert services.alerts_stalled_deals() == []
    clock.shift(timedelta(days=7))
    assert len(services.alerts_stalled_deals()) >= 2  # a new week, told again


def test_stakeholder_gaps_go_to_the_owner(world):
    flagged = services.alerts_stakeholder_gaps(min_amount=D("25000"))
    assert sorted((a.opportunity.name, a.owner.username, a.data["days"]) for a in flagged) == [
        ("O4", "b", 78), ("O5", "c", None),
    ]
    (text,) = _notices(world.b, "stakeholder_gap")
    assert text == "1 big deals whose decision maker you have not met in 60 days: O4."
    assert services.alerts_stakeholder_gaps(min_amount=D("25000")) == []
    assert services.alerts_stakeholder_gaps(min_amount=D("60000")) == []


def test_alert_messages_read_in_the_readers_language(world):
    (alert,) = [a for a in services.alerts_stakeholder_gaps(min_amount=D("25000")) if a.opportunity == world.o4]
    assert alert.message == "O4: decision maker not contacted for 78 days"


# --- the managers' morning digest ---------------------------------------------------------------


def test_each_manager_gets_yesterdays_digest_by_sms_and_in_the_app(world, clock):
    clock.move_to(NOW + timedelta(days=1))
    assert services.digest_send() == 2
    (text,) = _notices(world.m1, "digest")
    assert text == ("06-18 team: 1 sold (500, rewards 10), 2 visits, 1 new customers, 1 deals moved, 0 alerts. "
                    "Best: Ann A (1)")
    (sms,) = OutboundMessage.objects.filter(to=world.m1.phone, kind="digest")
    assert sms.body == text and sms.status != OutboundStatus.SUPPRESSED
    assert _notices(world.m2, "digest") == ["06-18 team: 0 sold (0, rewards 0), 0 visits, 0 new customers, "
                                            "0 deals moved, 0 alerts."]
    assert services.digest_send() == 0  # once a day
    assert _notices(world.a, "digest") == []


def test_a_manager_who_sent_stop_gets_the_digest_in_the_app_only(world):
    optout_set(phone=world.m1.phone, active=True, source="test")
    services.digest_send(day=TODAY)
    assert len(_notices(world.m1, "digest")) == 1
    (sms,) = OutboundMessage.objects.filter(to=world.m1.phone, kind="digest")
    assert sms.status == OutboundStatus.SUPPRESSED


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("name", ["Alexandra Konstantinopolous", "欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜"])
def test_the_digest_fits_two_segments_at_its_largest(name, language):
    digest = services.Digest(
        day=date(2025, 12, 31), units=987_654, revenue=D("987654321098"), rewards=D("98765432"), visits=99_999,
        new_customers=99_999, deals_moved=99_999, best=name, best_units=99_999, alerts=99_999,
    )
    with translation.override(language):
        assert segments.count(digest.text()).segments <= 2


def test_compact_numbers():
    assert [services.compact(n) for n in (0, 950, 9_500, 95_000, 1_440_000, D("12000000000"))] == [
        "0", "950", "9.5K", "95K", "1.4M", "12B",
    ]


# --- the live event for dashboards --------------------------------------------------------------


def test_a_reported_sale_reaches_every_dashboard_above_the_rep(world, django_capture_on_commit_callbacks):
    from backend.sales.services import sale_report

    layer = get_channel_layer()
    channels = {}
    for user in (world.boss, world.m1, world.m2):
        channels[user.username] = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(services.dashboard_group(user.pk), channels[user.username])

    with django_capture_on_commit_callbacks(execute=True):
        report = sale_report(rep=world.a, product_code="P1", quantity=2, customer_hint="Alpha", channel="sms")

    for name in ("boss", "m1"):
        message = async_to_sync(layer.receive)(channels[name])
        assert message["type"] == "dashboard.events"
        [event] = message["events"]
        assert (event["type"], event["id"]) == ("sale_recorded", report.reference)
        shown = ("rep", "branch", "region", "product", "units", "revenue", "customer")
        assert {k: event["data"][k] for k in shown} == {
            "rep": "Ann A", "branch": "BN", "region": "North", "product": "P1", "units": 2, "revenue": "2000.00",
            "customer": "Alpha Co",
        }
    assert services.dashboard_audience(world.a) == {world.boss.pk, world.m1.pk}
    with pytest.raises(TimeoutError):  # m2 is not above Ann: nothing arrives
        async_to_sync(_receive_soon)(layer, channels["m2"])


def test_a_push_reads_nothing_of_its_rep_and_shows_a_branch_as_last_committed(
        world, monkeypatch, django_assert_num_queries, django_capture_on_commit_callbacks):
    from backend.sales.services import sale_report

    pushed = []
    monkeypatch.setattr(services, "send_to_groups", lambda messages: pushed.extend(messages))
    sales = sale_report(rep=world.a, product_code="P1", quantity=1, channel="sms").sales
    services.dashboard_audience(world.a)

    with django_assert_num_queries(0):  # the sale brings its rep; the tree and the branches are known
        services.dashboard_sales_recorded(reports=[sales])
    with django_capture_on_commit_callbacks(execute=True):
        world.a.branch.code = "BN2"
        world.a.branch.save()
    services.dashboard_sales_recorded(reports=[sales])

    shown = [message["events"][0]["data"]["branch"] for group, message in pushed
             if group == services.dashboard_group(world.m1.pk)]
    assert shown == ["BN", "BN2"]


def test_a_branch_made_without_a_save_is_read_when_a_push_first_names_it(world):
    from backend.org.models import Branch

    services.dashboard_audience(world.a)  # the tree and the branches are read
    [east] = Branch.objects.bulk_create([Branch(code="BE", name="East", region=world.a.branch.region)])  # no signal

    assert services._audiences.place(east.pk) == ("BE", "North")


async def _receive_soon(layer, channel):
    return await asyncio.wait_for(layer.receive(channel), timeout=0.2)


def test_the_audience_is_worked_out_once_and_again_once_a_move_is_committed(
        world, django_assert_num_queries, django_capture_on_commit_callbacks):
    services.dashboard_audience(world.a)
    with django_assert_num_queries(0):  # later reports of the same rep ask nothing more
        assert services.dashboard_audience(world.a) == {world.boss.pk, world.m1.pk}

    with django_capture_on_commit_callbacks(execute=True):
        world.a.manager = world.m2
        world.a.save()

    assert services.dashboard_audience(world.a) == {world.boss.pk, world.m2.pk}


def test_a_move_committed_by_another_process_is_seen_at_once(world):
    from django.core.cache import cache

    services.dashboard_audience(world.a)
    type(world.a).objects.filter(pk=world.a.pk).update(manager=world.m2)  # saved elsewhere: no signal here
    cache.set(services._Audiences.VERSION_KEY, 7)  # what that process's commit left in the shared cache

    assert services.dashboard_audience(world.a) == {world.boss.pk, world.m2.pk}


def test_the_audience_is_worked_out_again_after_a_minute(world, monkeypatch):
    services.dashboard_audience(world.a)
    type(world.a).objects.filter(pk=world.a.pk).update(manager=world.m2)  # no signal: another process's save
    assert services.dashboard_audience(world.a) == {world.boss.pk, world.m1.pk}

    later = services.time.monotonic() + services._Audiences.SECONDS + 1
    monkeypatch.setattr(services.time, "monotonic", lambda: later)

    assert services.dashboard_audience(world.a) == {world.boss.pk, world.m2.pk}


def test_a_rep_added_by_another_process_is_seen_with_their_manager_at_once(world):
    from tests import factories as f

    services.dashboard_audience(world.a)
    [newcomer] = type(world.a).objects.bulk_create([f.RepFactory.build(manager=world.m2, branch=world.bs)])  # no signal

    assert services.dashboard_audience(newcomer) == {world.boss.pk, world.m2.pk}
