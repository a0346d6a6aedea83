"""The dashboard's queries on a company-sized history, in PostgreSQL.

Generates (once) 1,000,000 sales by 300 reps in 14 branches over 3 years, with their rewards,
customers, contacts, deals and stage history, visits, orders and shipments, forecast snapshots
and alerts; builds the roll-ups (days, weeks, months, quarters); then times every figure of the
dashboard as the page reads it (a long list cut in the database to what the page shows), and each
figure the page shows less of also whole, as the CSV download and the phone API read it, as an
executive (the whole company) and as a branch manager, and appends the table to RESULTS.md.
Every line is held to the same limit.

    DATABASE_URL=postgres://user@127.0.0.1:5432/fieldline_bench python deploy/bench/reports_bench.py

The database must be a throwaway one: the tables are made from the models (no migrations) when
it is empty, and the generated rows are kept for the next run (`--regenerate` starts over; a
table or index the models gained since asks for it).
Bulk rows are made inside PostgreSQL (INSERT … SELECT over generate_series), so the load takes
a couple of minutes on 2 cores, with a progress bar.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deploy.bench.schema_settings")

import common

SLOWEST_ALLOWED_MS = 300
BRANCHES, REGIONS, DIVISIONS, PRODUCTS_PER_DIVISION, STAGES = 14, 7, 5, 8, 5
CUSTOMERS_PER_REP = 15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (after one warm-up)")
    parser.add_argument("--regenerate", action="store_true", help="drop the generated data and make it again")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a throwaway PostgreSQL database (postgres://…).")
    common.django_setup()
    from django.db import connection

    _schema(regenerate=args.regenerate)
    counts = _generate(args) if not _has_data(args.sales) else _counts()
    built = _rollups()
    _maintain()  # fresh statistics, roll-ups included, as autovacuum keeps them on a live server
    timings = _time_queries(args.runs)
    body = _report(counts, built, timings, connection)
    if args.no_record:
        print(body)
    else:
        common.record("Dashboard queries", common.command_line(), body)
    slowest = max(t[3] for t in timings)
    if slowest > SLOWEST_ALLOWED_MS:
        sys.exit(f"slowest query median {slowest:.0f} ms > {SLOWEST_ALLOWED_MS} ms")


# --------------------------------------------------------------------------- schema and data


def _schema(*, regenerate: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    if regenerate:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    if "sales_sale" not in connection.introspection.table_names():
        print("Creating the tables from the models…", file=sys.stderr)
        call_command("migrate", run_syncdb=True, verbosity=0)
    missing = _missing_from_schema()
    if missing:
        sys.exit(f"The models changed since the data were made ({', '.join(missing)} missing): run with --regenerate.")


def _missing_from_schema() -> list[str]:
    """Tables and indexes of the models that the database lacks: a roll-up table made empty next to
    periods marked built would time wrong figures, a missing index slow ones."""
    from django.apps import apps
    from django.db import connection

    tables = set(connection.introspection.table_names())
    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if not model._meta.managed or model._meta.proxy:
                continue
            table = model._meta.db_table
            if table not in tables:
                missing.append(table)
                continue
            present = connection.introspection.get_constraints(cursor, table)
            missing += [index.name for index in model._meta.indexes if index.name not in present]
    return missing


def _has_data(sales: int) -> bool:
    from backend.sales.models import Sale

    return Sale.objects.count() >= sales


def _sql(statement: str, params: list | tuple = ()) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _insert_select(model: type, values: dict[str, str], source: str, params: list | tuple = ()) -> int:
    statement, defaults = _insert_sql(model, values, source)
    return _sql(statement, [*defaults, *params])


def _insert_sql(model: type, values: dict[str, str], source: str) -> tuple[str, list]:
    """INSERT … SELECT into every column of `model`: `values` gives the SQL of some columns, the
    others take their field's default (or NULL, or ''), so fields added later need no change here."""
    from django.db import connection
    from django.db.models import AutoField, BigAutoField, CharField, TextField

    columns, expressions, defaults = [], [], []
    for field in model._meta.concrete_fields:
        if isinstance(field, AutoField | BigAutoField):
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in values:
            # The defaults' parameters come first: a column's own SQL holds none.
            assert "%s" not in values[field.column], field.column
            expressions.append(values[field.column])
        elif field.has_default() and not callable(field.default):
            expressions.append("%s")
            defaults.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.has_default() and field.default in (dict, list):
            expressions.append("'{}'::jsonb" if field.default is dict else "'[]'::jsonb")
        elif field.null:
            expressions.append("NULL")
        elif isinstance(field, CharField | TextField):
            expressions.append("''")
        else:
            raise ValueError(f"{model.__name__}.{field.name} needs a value")
    statement = (f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
                 f"SELECT {', '.join(expressions)} {source}")
    return statement, defaults


def _generate(args: argparse.Namespace) -> dict[str, int]:
    from django.db import transaction
    from tqdm import tqdm

    steps: list[tuple[str, int, Callable[[], None]]] = [
        ("organisation", 1, lambda: _organisation(args.reps)),
        ("customers and contacts", 1, _customers),
    ]
    chunk = 50_000
    for start in range(0, args.sales, chunk):
        size = min(chunk, args.sales - start)
        steps.append(("sales and rewards", size, lambda start=start, size=size: _sales(start, size, args.years)))
    steps += [
        ("deals and stage history", 1, lambda: _deals(args.reps * 40 * args.years, args.years)),
        ("visits and calls", 1, lambda: _activities(args.reps * 700 * args.years, args.years)),
        ("orders and shipments", 1, lambda: _orders(args.reps * 110 * args.years, args.years)),
        ("forecasts, alerts, conflicts", 1, lambda: _snapshots_and_alerts(args.years)),
    ]
    total = sum(weight for _, weight, _ in steps)
    with tqdm(total=total, unit="row", unit_scale=True, desc="generating", file=sys.stderr) as bar:
        for label, weight, step in steps:
            bar.set_postfix_str(label)
            with transaction.atomic():
                step()
            bar.update(weight)
    return _counts()


def _organisation(reps: int) -> None:
    from decimal import Decimal

    from backend.crm.models import Stage
    from backend.org.models import Branch, Division, Region, Role, User
    from backend.sales.models import Product, RewardRule

    regions = Region.objects.bulk_create(Region(code=f"BR{n}", name=f"Region {n}") for n in range(REGIONS))
    branches = Branch.objects.bulk_create(
        Branch(code=f"BB{n:02d}", name=f"Branch {n}", region=regions[n % REGIONS]) for n in range(BRANCHES))
    divisions = Division.objects.bulk_create(Division(code=f"BD{n}", name=f"Division {n}") for n in range(DIVISIONS))
    boss = User.objects.create(username="bench-exec", role=Role.EXECUTIVE, password="!")
    managers = User.objects.bulk_create(
        User(username=f"bench-manager-{n:02d}", role=Role.MANAGER, branch=b, manager=boss, password="!")
        for n, b in enumerate(branches))
    User.objects.bulk_create(
        User(username=f"bench-rep-{n:03d}", first_name=f"Rep{n}", role=Role.REP, branch=branches[n % BRANCHES],
             manager=managers[n % BRANCHES], division=divisions[n % DIVISIONS], password="!")
        for n in range(reps))
    products = Product.objects.bulk_create(
        Product(code=f"BP{d}{p}", name=f"Product {d}{p}", division=divisions[d], price=Decimal(1000 + 1500 * p),
                cost=Decimal(1000 + 1500 * p) * Decimal("0.8"))
        for d in range(DIVISIONS) for p in range(PRODUCTS_PER_DIVISION))
    RewardRule.objects.bulk_create(
        RewardRule(product=p, amount_per_unit=p.price / 100, valid_from=date(2020, 1, 1)) for p in products)
    Stage.objects.bulk_create(
        Stage(division=d, order=n + 1, name=f"Stage {n + 1}", probability=min(10 + 20 * n, 95), usual_days=7 + 3 * n)
        for d in divisions for n in range(STAGES))


def _customers() -> None:
    from backend.crm.models import BuyingRole, Contact, Customer
    from backend.crm.normalise import name_key
    from backend.org.models import Role, User

    reps = list(User.objects.filter(role=Role.REP).order_by("username"))
    customers = []
    for n, rep in enumerate(reps):
        for k in range(CUSTOMERS_PER_REP):
            name = f"Bench customer {n:03d}-{k:02d}"
            customers.append(Customer(name=name, name_key=name_key(name), owner=rep, region=rep.branch.region,
                                      is_key_account=k < 2))
    Customer.objects.bulk_create(customers, batch_size=5000)
    # A rep sells the products of their division (k of the division's first product), some more than others.
    _sql("CREATE TABLE bench_customer AS SELECT row_number() OVER (ORDER BY c.name) - 1 AS k, c.id, c.owner_id, "
         "(substring(u.username from 11)::int %% %s) * %s AS first_product "
         "FROM crm_customer c JOIN org_user u ON u.id = c.owner_id WHERE c.name LIKE 'Bench customer %%'",
         [DIVISIONS, PRODUCTS_PER_DIVISION])
    _sql("CREATE UNIQUE INDEX ON bench_customer (k)")
    _sql("CREATE TABLE bench_product AS SELECT row_number() OVER (ORDER BY p.code) - 1 AS k, p.id, p.price, "
         "r.id AS rule_id, r.amount_per_unit FROM sales_product p JOIN sales_rewardrule r ON r.product_id = p.id "
         "WHERE p.code LIKE 'BP%%'")
    _sql("CREATE UNIQUE INDEX ON bench_product (k)")
    for role, share, days in ((BuyingRole.DECISION_MAKER, 0.7, 120), (BuyingRole.INFLUENCER, 0.5, 60)):
        _insert_select(Contact, {
            "id": "gen_random_uuid()", "created_at": "now()", "updated_at": "now()", "customer_id": "c.id",
            "name": "'Contact ' || c.k", "buying_role": f"'{role.value}'", "is_key": "true",
            "last_contacted_at": f"now() - interval '1 day' * floor(random() * {days})",
        }, "FROM bench_customer c WHERE random() < %s", [share])


def _growth(years: int) -> str:
    """A moment in the last `years`, more of them lately: sales grow."""
    return f"now() - interval '1 day' * ({365 * years} * (1 - sqrt(random())))"


def _sales(start: int, size: int, years: int) -> None:
    from backend.sales.models import Reward, Sale

    customers = _sql("SELECT 1 FROM bench_customer")
    source = (
        "FROM (SELECT g, floor(random() * %s)::int AS ck, floor(%s * random() ^ 2)::int AS pk, "
        f"{_growth(years)} AS at, random() < 0.01 AS voided FROM generate_series(%s, %s) g) t "
        "JOIN bench_customer c ON c.k = t.ck JOIN bench_product p ON p.k = c.first_product + t.pk"
    )
    sales, sale_defaults = _insert_sql(Sale, {
        "id": "gen_random_uuid()", "created_at": "t.at", "updated_at": "t.at", "reference": "'S' || (t.g + 100000)",
        "product_id": "p.id", "rep_id": "c.owner_id", "customer_id": "c.id", "unit_price": "p.price",
        "channel": "'sms'", "sold_at": "t.at", "voided_at": "CASE WHEN t.voided THEN t.at END",
    }, source)
    rewards, reward_defaults = _insert_sql(Reward, {
        "id": "gen_random_uuid()", "created_at": "s.sold_at", "updated_at": "s.sold_at", "sale_id": "s.id",
        "rep_id": "s.rep_id", "rule_id": "p.rule_id", "amount": "p.amount_per_unit",
        "status": "CASE WHEN s.voided_at IS NULL THEN 'approved' ELSE 'cancelled' END",
    }, "FROM new s JOIN bench_product p ON p.id = s.product_id")
    # One statement: each sale and its reward.
    _sql(f"WITH new AS ({sales} RETURNING id, rep_id, product_id, sold_at, voided_at) {rewards}",
         [*sale_defaults, customers, PRODUCTS_PER_DIVISION, start, start + size - 1, *reward_defaults])


def _deals(count: int, years: int) -> None:
    from backend.crm.models import Opportunity, StageEntry

    customers = _sql("SELECT 1 FROM bench_customer")
    _insert_select(Opportunity, {
        "id": "gen_random_uuid()", "created_at": "o.created", "updated_at": "o.created",
        "customer_id": "c.id", "owner_id": "c.owner_id", "name": "'Deal ' || o.g", "stage_id": "s.id",
        "amount": "o.amount", "expected_close": "(o.created + interval '1 day' * (s.\"order\" * 7 + 14))::date",
        "status": "o.status", "close_reason": "CASE WHEN o.status IN ('lost', 'abandoned') THEN 'Price' ELSE '' END",
        "closed_at": "CASE WHEN o.status <> 'open' THEN "
                     "LEAST(o.created + interval '1 day' * (s.\"order\" * 7 + 3), now()) END",
        "stage_entered_at": "o.created + interval '1 day' * ((s.\"order\" - 1) * 7)",
        "next_step": "'Call back'",
    }, "FROM (SELECT g, floor(random() * %s)::int AS ck, 1 + floor(random() * %s)::int AS stage_order, "
       f"floor(random() * %s)::int AS division, 50000 + floor(random() * 95) * 10000 AS amount, "
       f"{_growth(years)} AS created, random() AS fate FROM generate_series(1, %s) g) o0 "
       "CROSS JOIN LATERAL (SELECT o0.*, CASE "
       "  WHEN o0.created > now() - interval '120 days' AND o0.fate < 0.8 THEN 'open' "
       "  WHEN o0.fate < 0.35 THEN 'won' WHEN o0.fate < 0.9 THEN 'lost' ELSE 'abandoned' END AS status) o "
       "JOIN bench_customer c ON c.k = o.ck "
       "JOIN crm_stage s ON s.\"order\" = o.stage_order AND s.division_id = "
       "  (SELECT id FROM org_division WHERE code = 'BD' || o.division)",
       [customers, STAGES, DIVISIONS, count])
    _insert_select(StageEntry, {
        "opportunity_id": "o.id", "stage_id": "si.id", "entered_at": "o.created_at + interval '7 days' * (i - 1)",
        "left_at": "CASE WHEN i < s.\"order\" THEN o.created_at + interval '7 days' * i "
                   "WHEN o.status <> 'open' THEN o.closed_at END",
        "by_id": "o.owner_id",
    }, "FROM crm_opportunity o JOIN crm_stage s ON s.id = o.stage_id "
       "CROSS JOIN LATERAL generate_series(1, s.\"order\") i "
       "JOIN crm_stage si ON si.division_id = s.division_id AND si.\"order\" = i")


def _activities(count: int, years: int) -> None:
    from backend.crm.models import Activity

    customers = _sql("SELECT 1 FROM bench_customer")
    _insert_select(Activity, {
        "id": "gen_random_uuid()", "created_at": "t.at", "updated_at": "t.at", "customer_id": "c.id",
        "rep_id": "c.owner_id", "kind": "CASE WHEN t.r < 0.7 THEN 'visit' ELSE 'call' END", "channel": "'app'",
        "note": "'Regular visit'", "occurred_at": "t.at",
    }, f"FROM (SELECT floor(random() * %s)::int AS ck, {_growth(years)} AS at, random() AS r "
       "FROM generate_series(1, %s)) t JOIN bench_customer c ON c.k = t.ck", [customers, count])
    # Most open deals were worked on lately; the rest stall.
    _insert_select(Activity, {
        "id": "gen_random_uuid()", "created_at": "now()", "updated_at": "now()", "customer_id": "o.customer_id",
        "rep_id": "o.owner_id", "opportunity_id": "o.id", "kind": "'meeting'", "channel": "'app'",
        "occurred_at": "now() - interval '1 day' * floor(random() * 20)",
    }, "FROM crm_opportunity o WHERE o.status = 'open' AND random() < 0.7")


def _orders(count: int, years: int) -> None:
    from backend.sales.models import Order, Shipment

    customers = _sql("SELECT 1 FROM bench_customer")
    _insert_select(Order, {
        "id": "gen_random_uuid()", "created_at": "t.at", "updated_at": "t.at", "number": "'BR-' || t.g",
        "customer_id": "c.id", "rep_id": "c.owner_id", "amount": "10000 + floor(random() * 500) * 1000",
        "ordered_at": "t.at", "due_date": "(t.at + interval '30 days')::date",
        "paid_date": "CASE WHEN t.at < now() - interval '35 days' AND random() < 0.95 "
                     "THEN (t.at + interval '25 days')::date END",
        "status": "CASE WHEN t.at < now() - interval '10 days' THEN 'received' ELSE 'shipped' END",
    }, f"FROM (SELECT g, floor(random() * %s)::int AS ck, {_growth(years)} AS at FROM generate_series(1, %s) g) t "
       "JOIN bench_customer c ON c.k = t.ck", [customers, count])
    _insert_select(Shipment, {
        "id": "gen_random_uuid()", "created_at": "x.shipped", "updated_at": "x.shipped", "order_id": "x.id",
        "carrier": "'SF'", "tracking": "'SF' || x.number", "shipped_at": "x.shipped", "channel": "'sms'",
        "rep_notified_at": "x.shipped", "eta": "(x.shipped + interval '2 days')::date",
        "customer_told_at": "CASE WHEN random() < 0.9 "
                            "THEN x.shipped + interval '1 hour' * (1 + floor(random() * 8)) END",
        "received_at": "CASE WHEN x.status = 'received' "
                       "THEN x.shipped + interval '1 day' * (1 + floor(random() * 5)) END",
    }, "FROM (SELECT o.id, o.number, o.status, o.ordered_at + interval '1 day' * (1 + floor(random() * 3)) AS shipped "
       "FROM sales_order o WHERE o.number LIKE 'BR-%%') x")


def _snapshots_and_alerts(years: int) -> None:
    from backend.crm.models import DuplicateConflict
    from backend.reports.models import Alert, ForecastSnapshot

    _insert_select(ForecastSnapshot, {
        "owner_id": "u.id", "period": "m::date", "weighted": "200000 + floor(random() * 1800) * 1000",
        "pipeline": "500000 + floor(random() * 4000) * 1000", "deals": "1 + floor(random() * 20)", "taken_at": "m",
    }, "FROM org_user u CROSS JOIN generate_series(date_trunc('month', now()) - interval '1 month' * %s, "
       "date_trunc('month', now()), interval '1 month') m WHERE u.role = 'rep'", [12 * years - 1])
    _insert_select(Alert, {
        "id": "gen_random_uuid()", "created_at": "m + interval '6 hours'", "updated_at": "m + interval '6 hours'",
        "kind": "'falling_account'", "subject": "c.id::text", "period": "to_char(m, 'YYYY-MM')",
        "owner_id": "c.owner_id", "customer_id": "c.id",
        "data": "jsonb_build_object('customer', 'Bench', 'units', jsonb_build_array(9, 7, 5, 3), 'reason', 'falling')",
    }, "FROM bench_customer c CROSS JOIN generate_series(date_trunc('month', now()) - interval '11 months', "
       "date_trunc('month', now()), interval '1 month') m WHERE random() < 0.05")
    _insert_select(DuplicateConflict, {
        "id": "gen_random_uuid()", "created_at": "now()", "updated_at": "now()", "existing_id": "c.id",
        "reported_by_id": "(SELECT owner_id FROM bench_customer WHERE k = mod(c.k + 15, 4500))",
        "source": "'sms'", "matched_on": "'phone'", "status": "'open'",
    }, "FROM bench_customer c WHERE random() < 0.02")


def _counts() -> dict[str, int]:
    from django.db.models import Max, Min

    from backend.crm.models import Activity, Customer, Opportunity, StageEntry
    from backend.org.models import Role, User
    from backend.sales.models import Order, Sale, Shipment

    span = Sale.objects.aggregate(first=Min("sold_at"), last=Max("sold_at"))
    return {
        "sales": Sale.objects.count(), "reps": User.objects.filter(role=Role.REP).count(),
        "customers": Customer.objects.count(), "deals": Opportunity.objects.count(),
        "stage entries": StageEntry.objects.count(), "activities": Activity.objects.count(),
        "orders": Order.objects.count(), "shipments": Shipment.objects.count(),
        "days of history": (span["last"] - span["first"]).days if span["first"] else 0,
    }


def _maintain() -> None:
    from django.db import connection

    print("VACUUM ANALYZE…", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _rollups() -> tuple[int, float]:
    from tqdm import tqdm

    from backend.reports.models import RollupPeriod
    from backend.reports.services import rollup_refresh

    begun = time.perf_counter()
    with tqdm(desc="roll-ups", unit="period", file=sys.stderr) as bar:
        rollup_refresh(progress=lambda grain, start: bar.update(1))
    return RollupPeriod.objects.count(), time.perf_counter() - begun


# --------------------------------------------------------------------------- timing


def _viewers() -> list[tuple[str, object]]:
    from django.db.models import Count

    from backend.org.models import Role, User

    boss = User.objects.get(username="bench-exec")
    manager = (User.objects.filter(role=Role.MANAGER, username__startswith="bench-")
               .annotate(team=Count("reports")).order_by("-team", "username").first())
    return [("executive (all)", boss), (f"manager ({manager.branch.code})", manager)]


EVERY_ROW = "every row"


def _time_queries(runs: int) -> list[tuple[str, str, int, float, float, float]]:
    from django.db import reset_queries
    from django.utils import timezone

    from backend.reports.figures import FIGURES, Params

    params = {12: Params(day=timezone.localdate(), months=12), 36: Params(day=timezone.localdate(), months=36)}
    # What the page reads of each figure (a long list cut in the database); for a figure the page
    # shows less of, also every row, as the CSV download and the phone API (which calls the
    # selectors) read it.
    cases: list[tuple[str, Callable, int]] = []
    for name, figure in FIGURES.items():
        cases.append((name, figure.page_rows, 12))
        if figure.page is not None:
            cases.append((f"{name} ({EVERY_ROW})", figure.rows, 12))
    cases.append(("sales-by-region (36 months)", FIGURES["sales-by-region"].page_rows, 36))
    timings = []
    for viewer_label, viewer in _viewers():
        for label, read, months in cases:
            read(viewer, params[months])  # warm-up: plans and caches, as a live server has them
            samples = []
            for _ in range(runs):
                begun = time.perf_counter()
                rows = read(viewer, params[months])
                samples.append((time.perf_counter() - begun) * 1000)
                reset_queries()
            timings.append((viewer_label, label, len(rows), statistics.median(samples), min(samples), max(samples)))
            print(f"{viewer_label:<20} {label:<40} {statistics.median(samples):8.1f} ms", file=sys.stderr)
    return timings


def _report(counts: dict[str, int], built: tuple[int, float], timings: list, connection: object) -> str:
    load = " / ".join(f"{n:.1f}" for n in os.getloadavg())
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SELECT current_setting('shared_buffers'), current_setting('work_mem'), current_setting('jit')")
        shared_buffers, work_mem, jit = cursor.fetchone()
    data = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    rows = [[viewer, name, n, f"{median:.1f}", f"{best:.1f}", f"{worst:.1f}"]
            for viewer, name, n, median, best, worst in timings]
    slowest = max(timings, key=lambda t: t[3])
    return (
        f"PostgreSQL {version} (shared_buffers {shared_buffers}, work_mem {work_mem}, jit {jit}).\n"
        f"Data: {data}.\nRoll-ups: {built[0]} complete days, weeks, months and quarters, built or brought up "
        f"to date in {built[1]:.1f} s; "
        "today is read live.\n"
        f"Each figure as the dashboard page reads it; '({EVERY_ROW})': a figure the page shows less of, read "
        "whole as the CSV download and the phone API read it (under the same limit).\n\n"
        + f"Load average while timing (the machine is shared): {load}.\n\n"
        + common.table(["viewer", "figure", "rows", "median ms", "min ms", "max ms"], rows)
        + f"\n\nSlowest median: {slowest[1]} as {slowest[0]}, {slowest[3]:.1f} ms "
        f"(limit {SLOWEST_ALLOWED_MS} ms).\n"
    )


if __name__ == "__main__":
    main()
