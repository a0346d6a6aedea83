"""Each figure against values computed by hand from the world of conftest.py."""

from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from backend.reports import selectors as s
from backend.reports.figures import FIGURES, Params
from backend.reports.models import RepProductTotals, RepTotals
from backend.reports.services import rollup_refresh
from tests import factories as f
from tests.reports.conftest import NOW, TODAY, TZ, at, sell

pytestmark = pytest.mark.django_db


def _table(rows, *fields):
    return [tuple(getattr(r, name) for name in fields) for r in rows]


def test_sales_by_region_per_month_for_the_executive(world):
    rows = s.sales_by_month(user=world.boss, by="region", months=3)
    assert _table(rows, "month", "label", "units", "revenue", "cost", "margin", "reward") == [
        (date(2025, 4, 1), "North", 3, D("3000"), D("2100"), D("900"), D("60")),
        (date(2025, 5, 1), "North", 6, D("4000"), D("3000"), D("1000"), D("80")),
        (date(2025, 6, 1), "North", 2, D("1500"), D("1100"), D("400"), D("30")),
        (date(2025, 6, 1), "South", 2, D("2000"), D("1400"), D("600"), D("40")),
    ]


def test_a_manager_sees_only_the_team_below(world):
    assert _table(s.sales_by_month(user=world.m2, by="branch", months=3), "month", "label", "units") == [
        (date(2025, 6, 1), "BS", 2),
    ]
    by_rep = s.sales_by_month(user=world.m1, by="rep", months=3)
    assert {r.label for r in by_rep} == {"Ann A", "Ben B"}


def test_sales_by_product_and_reward_spend_by_division(world):
    rows = s.sales_by_month(user=world.boss, by="product", months=2)
    assert _table(rows, "month", "label", "units", "revenue") == [
        (date(2025, 5, 1), "P1", 2, D("2000")), (date(2025, 5, 1), "P2", 4, D("2000")),
        (date(2025, 6, 1), "P1", 3, D("3000")), (date(2025, 6, 1), "P2", 1, D("500")),
    ]
    total_reward = sum(r.reward for r in s.sales_by_month(user=world.boss, by="division", months=3))
    assert total_reward == D("60") + D("80") + D("30") + D("40")  # the voided sale's reward is not spent


def test_rolled_up_days_and_months_give_the_same_figures_and_stay_fresh(world, clock):
    params = Params(day=TODAY, months=3)
    before = {name: figure.rows(world.boss, params) for name, figure in FIGURES.items()}
    clock.shift(timedelta(minutes=10))
    built = rollup_refresh()
    assert [start for grain, start in built if grain == "month"] == [date(2025, 4, 1), date(2025, 5, 1)]
    days = s.days_between(date(2025, 4, 10), TODAY - timedelta(days=1))
    assert [start for grain, start in built if grain == "day"] == days
    assert {name: figure.rows(world.boss, params) for name, figure in FIGURES.items()} == before
    assert rollup_refresh() == []  # nothing changed

    clock.shift(timedelta(minutes=10))
    may_sale = world.b.sales.filter(sold_at__month=5).first()
    may_sale.voided_at = NOW
    may_sale.save()
    assert rollup_refresh() == [("day", date(2025, 5, 20)), ("week", date(2025, 5, 19)), ("month", date(2025, 5, 1))]
    may = [r for r in s.sales_by_month(user=world.boss, by="region", months=3) if r.month == date(2025, 5, 1)]
    assert _table(may, "units", "revenue") == [(5, D("3500"))]


def test_quarters_and_weeks_give_the_same_figures(world, clock):
    clock.move_to(datetime(2025, 7, 20, 12, tzinfo=TZ))  # a Sunday: the second quarter is over
    params = Params(day=date(2025, 7, 20), months=4)
    before = {name: figure.rows(world.boss, params) for name, figure in FIGURES.items()}
    clock.shift(timedelta(minutes=10))
    built = rollup_refresh()
    assert [start for grain, start in built if grain == "quarter"] == [date(2025, 4, 1)]
    assert [start for grain, start in built if grain == "week"][-1] == date(2025, 7, 7)  # not the one ending today
    assert {name: figure.rows(world.boss, params) for name, figure in FIGURES.items()} == before


def test_a_sale_voided_after_the_roll_up_leaves_every_roll_up(world, clock):
    clock.shift(timedelta(minutes=10))
    rollup_refresh()
    clock.shift(timedelta(minutes=10))
    voided = world.b.sales.filter(sold_at__month=5).first()  # one of Beta Co's four
    voided.voided_at = timezone.now()
    voided.save()
    assert ("month", date(2025, 5, 1)) in rollup_refresh()
    beta = next(r for r in s.customer_value(user=world.boss, months=3) if r.name == "Beta Co")
    assert (beta.units, beta.revenue, beta.margin) == (3, D("1500"), D("300"))
    by_rep = {(r.month, r.label): r.units for r in s.sales_by_month(user=world.boss, by="rep", months=3)}
    assert by_rep[(date(2025, 5, 1), "Ben B")] == 3
    may = {"grain": "month", "period": date(2025, 5, 1), "rep": world.b}
    assert RepTotals.objects.get(**may).units == sum(r.units for r in RepProductTotals.objects.filter(**may)) == 3


def test_each_reps_day(world):
    rows = s.rep_day(user=world.m1, day=TODAY)
    assert _table(rows, "rep", "branch", "units", "revenue", "rewards", "visits", "new_customers", "deals_moved") == [
        ("Ann A", "BN", 1, D("500"), D("10"), 2, 1, 1),
        ("Ben B", "BN", 0, D("0"), D("0"), 0, 0, 0),
    ]
    yesterday = {r.rep: r for r in s.rep_day(user=world.boss, day=TODAY - timedelta(days=1))}
    assert (yesterday["Ben B"].units, yesterday["Ben B"].rewards) == (1, D("20"))
    assert list(yesterday) == ["Ann A", "Ben B", "Cai C"]


def test_growth_month_on_month_and_week_on_week(world):
    monthly = s.growth(user=world.boss, grain="month", periods=2)
    assert _table(monthly, "period", "units", "revenue", "units_change_pct", "revenue_change_pct", "partial") == [
        (date(2025, 5, 1), 6, D("4000"), 100.0, 33.3, False),
        (date(2025, 6, 1), 4, D("3500"), -33.3, -12.5, True),
    ]
    weekly = s.growth(user=world.boss, grain="week", periods=2)
    assert _table(weekly, "period", "units", "units_change_pct", "partial") == [
        (date(2025, 6, 9), 0, -100.0, False),
        (date(2025, 6, 16), 2, None, True),
    ]


def test_hot_products_rank_by_growth_over_28_days(world):
    rows = s.hot_products(user=world.boss)
    assert _table(rows, "product", "recent_units", "previous_units", "growth_pct") == [
        ("P1", 3, 2, 50.0), ("P2", 1, 4, -75.0),
    ]


def test_a_new_product_ranks_first(world):
    p3 = f.ProductFactory(code="P3")
    f.RewardRuleFactory(product=p3)
    sell(world.a, p3, 1, at("2025-06-18", 9))
    assert [r.product for r in s.hot_products(user=world.boss)] == ["P3", "P1", "P2"]


def test_order_to_receipt_by_branch_and_by_month(world):
    fields = ("key", "shipments", "order_to_ship_days", "ship_to_rep_told_days", "ship_to_receipt_days",
              "order_to_receipt_days")
    assert _table(s.fulfilment_times(user=world.boss, by="branch"), *fields) == [
        ("BN", 2, 1.5, 0.5, 3.0, 4.5),
        ("BS", 1, 2.0, None, 1.0, 3.0),
    ]
    assert _table(s.fulfilment_times(user=world.boss, by="month"), "key", "shipments") == [
        ("2025-05-01", 1), ("2025-06-01", 2),
    ]
    assert _table(s.fulfilment_times(user=world.m2, by="branch"), "key", "shipments") == [("BS", 1)]


def test_a_shipment_received_after_the_roll_up_rebuilds_its_month(world, clock):
    order = f.OrderFactory(rep=world.c, customer=world.cc, ordered_at=at("2025-05-20"))
    late = f.ShipmentFactory(order=order, shipped_at=at("2025-05-21"), rep_notified_at=at("2025-05-21"))
    by_branch = s.fulfilment_times(user=world.m2, by="branch")
    clock.shift(timedelta(minutes=10))
    rollup_refresh()
    assert _table(s.fulfilment_times(user=world.boss, by="month"), "key", "shipments") == [
        ("2025-05-01", 1), ("2025-06-01", 2),
    ]
    assert s.fulfilment_times(user=world.m2, by="branch") == by_branch
    clock.shift(timedelta(minutes=10))
    late.received_at = timezone.now()
    late.save()
    assert rollup_refresh() == [("month", date(2025, 5, 1))]
    assert _table(s.fulfilment_times(user=world.boss, by="month"), "key", "shipments", "order_to_ship_days") == [
        ("2025-05-01", 2, 1.5), ("2025-06-01", 2, 1.5),
    ]


def test_weighted_forecast_per_month_of_expected_close(world):
    assert _table(s.pipeline_forecast(user=world.boss), "period", "deals", "amount", "weighted") == [
        (date(2025, 6, 1), 2, D("50000"), D("41000")),  # O1 10000 x 50% + O4 40000 x 90%
        (date(2025, 7, 1), 1, D("30000"), D("3000")),
        (None, 1, D("50000"), D("25000")),
    ]


def test_pipeline_funnel(world):
    assert _table(s.pipeline_funnel(user=world.boss), "stage", "deals", "amount", "weighted") == [
        ("Lead", 1, D("30000"), D("3000")),
        ("Demo", 2, D("60000"), D("30000")),
        ("Contract", 1, D("40000"), D("36000")),
    ]


def test_forecast_accuracy_per_rep_team_and_all(world):
    rows = s.forecast_accuracy(user=world.boss, months=1)
    # Snapshot of June: Ann 10000 x 50% + 20000 x 90% = 23000, Ben 40000 x 90% = 36000. Won in June: Ann 20000.
    assert _table(rows, "level", "name", "forecast", "actual", "accuracy_pct") == [
        ("all", "All", D("59000"), D("20000"), 33.9),
        ("team", "Mia One", D("59000"), D("20000"), 33.9),
        ("rep", "Ann A", D("23000"), D("20000"), 87.0),
        ("rep", "Ben B", D("36000"), D("0"), 0.0),
    ]
    assert s.forecast_accuracy(user=world.m2, months=1) == []


def test_the_page_reads_the_overall_accuracy_only(world):
    every = s.forecast_accuracy(user=world.boss, months=2)
    assert s.forecast_accuracy(user=world.boss, months=2, overall_only=True) == [r for r in every if r.level == "all"]
    assert s.forecast_accuracy(user=world.m2, months=2, overall_only=True) == []


def test_accuracy_formula():
    assert s.accuracy(D("100"), D("100")) == 100.0
    assert s.accuracy(D("100"), D("250")) == 0.0
    assert s.accuracy(D("0"), D("10")) is None


def test_conversion_from_stage_to_stage(world):
    assert _table(s.stage_conversion(user=world.boss), "stage", "entered", "advanced", "conversion_pct") == [
        ("Lead", 4, 3, 75.0),
        ("Demo", 5, 2, 40.0),
        ("Contract", 2, 1, 50.0),
    ]


def test_time_in_stage_over_finished_stays(world):
    assert _table(s.time_in_stage(user=world.boss), "stage", "stays", "avg_days", "usual_days") == [
        ("Lead", 3, 6.33, 7),
        ("Demo", 3, 21.67, 10),
        ("Contract", 1, 14.0, 5),
    ]


def test_win_rate_and_cycle_length(world):
    assert _table(s.win_rates(user=world.boss), "rep", "won", "lost", "win_rate_pct", "avg_cycle_days") == [
        ("Ann A", 1, 0, 100.0, 29.0),
        ("Ben B", 0, 1, 0.0, None),
        ("All", 1, 1, 50.0, 29.0),
    ]


def test_stalled_deals_with_a_suggestion(world):
    rows = s.stalled_deals(user=world.boss, now=NOW)
    assert _table(rows, "name", "idle_days", "days_in_stage", "suggestion") == [
        ("O5", 78, 78, "abandon"),  # 78 days in Demo (usual 10), nothing done but a voided visit
        ("O4", 3, 18, "advance"),  # 18 days in Contract (usual 5), but met three days ago
    ]
    assert rows[1].suggestion_text == "Close it: ask for the signature"
    assert [r.name for r in s.stalled_deals(user=world.m1, now=NOW)] == ["O4"]


def test_stalled_deals_idle_for_n_days(world):
    rows = s.stalled_deals(user=world.boss, now=NOW + timedelta(days=9), idle_days=10, factor=3)
    assert _table(rows, "name", "idle_days", "days_in_stage", "suggestion") == [
        ("O5", 87, 87, "abandon"),
        ("O3", 17, 17, "advance"),  # idle, but within 3 x 7 days of Lead and before its expected close
        ("O4", 12, 27, "abandon"),
    ]  # O1's customer was called on 06-18 (no deal named): 9 days, not idle
    assert rows[1].suggestion_text == "Advance it to Demo once its entry criteria are met"


def test_the_first_stalled_deals_are_cut_in_the_database(world):
    every = s.stalled_deals(user=world.boss, now=NOW)
    assert s.stalled_deals(user=world.boss, now=NOW, limit=1) == every[:1]


def test_stakeholder_gaps(world):
    rows = s.stakeholder_gaps(user=world.boss, min_amount=D("25000"), now=NOW)
    assert _table(rows, "name", "decision_maker", "last_contacted") == [
        ("O5", "", None),  # Gamma Co has no decision maker
        ("O4", "Dora Decides", at("2025-04-01")),
    ]
    assert s.stakeholder_gaps(user=world.boss, min_amount=D("45000"), now=NOW)[0].name == "O5"


def test_customer_value_and_overdue_payments(world):
    rows = s.customer_value(user=world.boss, months=3)
    assert _table(rows, "name", "units", "revenue", "cost", "margin", "margin_pct", "overdue_amount",
                  "overdue_orders") == [
        ("Alpha Co", 6, D("5500"), D("3900"), D("1600"), 29.1, D("0"), 0),
        ("Gamma Co", 2, D("2000"), D("1400"), D("600"), 30.0, D("0"), 0),
        ("Beta Co", 4, D("2000"), D("1600"), D("400"), 20.0, D("5000"), 1),
        ("Beta Two", 1, D("1000"), D("700"), D("300"), 30.0, D("0"), 0),
    ]
    rollup_refresh()
    assert s.customer_value(user=world.boss, months=3) == rows
    assert [r.name for r in s.customer_value(user=world.m2, months=3)] == ["Gamma Co"]


def test_the_most_and_the_least_profitable_customers_are_chosen_in_the_database(world, clock):
    # An overdue order and no sale: no margin at all, the least profitable.
    delta = f.CustomerFactory(name="Delta Co", owner=world.c)
    f.OrderFactory(rep=world.c, customer=delta, amount=D("800"), due_date=date(2025, 6, 1))
    every = s.customer_value(user=world.boss, months=3)
    assert _table(every, "name", "margin", "overdue_amount") == [
        ("Alpha Co", D("1600"), D("0")), ("Gamma Co", D("600"), D("0")), ("Beta Co", D("400"), D("5000")),
        ("Beta Two", D("300"), D("0")), ("Delta Co", D("0"), D("800")),
    ]
    for ends in (1, 2, 3):
        expected = every if 2 * ends >= len(every) else [*every[:ends], *every[-ends:]]
        assert s.customer_value(user=world.boss, months=3, ends=ends) == expected
    clock.shift(timedelta(minutes=10))
    rollup_refresh()
    assert s.customer_value(user=world.boss, months=3) == every
    assert s.customer_value(user=world.boss, months=3, ends=1) == [every[0], every[-1]]
    assert [r.name for r in s.customer_value(user=world.m2, months=3, ends=1)] == ["Gamma Co", "Delta Co"]


def test_falling_and_sharply_dropping_key_accounts(world):
    def monthly(customer, units):
        for n, month in zip(units, range(6 - len(units), 6), strict=True):
            if n:
                sell(customer.owner, world.p2, n, at(f"2025-{month:02d}-05"), customer)

    falling = f.CustomerFactory(name="Falling Key", owner=world.a, is_key_account=True)
    monthly(falling, [8, 6, 4, 2])  # Feb..May
    dropped = f.CustomerFactory(name="Dropped Key", owner=world.c, is_key_account=True)
    monthly(dropped, [5, 5, 5, 5, 1])  # Jan..May: 1 < half of 5
    monthly(f.CustomerFactory(name="Falling Ordinary", owner=world.a), [8, 6, 4, 2])
    monthly(f.CustomerFactory(name="Growing Key", owner=world.a, is_key_account=True), [3, 4, 5, 6])
    monthly(f.CustomerFactory(name="Wobbly Key", owner=world.a, is_key_account=True), [8, 6, 7, 5])

    rows = s.falling_key_accounts(user=world.boss, today=TODAY)
    assert _table(rows, "customer", "reason") == [("Dropped Key", "sharp_drop"), ("Falling Key", "falling")]
    assert rows[1].units[-4:] == [8, 6, 4, 2]
    assert rows[1].months[-1] == date(2025, 5, 1)
    assert [r.customer for r in s.falling_key_accounts(user=world.m1, today=TODAY)] == ["Falling Key"]
    rollup_refresh()
    assert s.falling_key_accounts(user=world.boss, today=TODAY) == rows


def test_demo_falling_key_account(demo_data, people):
    rows = s.falling_key_accounts(user=people["exec"])
    assert [(r.customer, r.units[-6:], r.reason) for r in rows] == [
        ("Wuhan Motors Ltd", [9, 10, 9, 7, 5, 3], "falling"),
    ]
    assert s.falling_key_accounts(user=people["zhao"]) == []


def test_open_conflicts_are_listed_for_the_manager(world):
    from backend.crm.services import conflict_open

    conflict_open(existing=world.cc, reported_by=world.a, source="sms", matched_on="phone")
    assert _table(s.open_conflicts(user=world.m1), "existing", "existing_owner", "reported_by") == [
        ("Gamma Co", "Cai C", "Ann A"),
    ]
    assert s.open_conflicts(user=world.m2) == []
