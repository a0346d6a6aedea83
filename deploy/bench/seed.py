"""Benchmark data on top of the demo set, loaded once into the local stack's database.

- REPS reps (`bench-rep-N`, phones +8613700000000 + N) under manager `wang`, each owning one
  customer and one confirmed order `BO-N`: SOLD comes from many numbers, as in the field, so
  the per-number flood limit (20 texts a minute) is never what is measured.
- LOGISTICS logistics users (`bench-wms-N`, phones +8613600000000 + N) who send SHIP.
- `bench-api`, a rep owning API_CUSTOMERS customers, for the sync benchmark.

Rows are bulk-created with their history rows, as the demo does, so seeding takes seconds.

`clear_runs` takes the bench users back to that state before an inbound run, with the tables'
indexes rebuilt and the floor's table empty: what is measured must not depend on how many runs
came before it on the same day.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from audit.context import Door, acting
from backend.core.bench_views import TABLE as FLOOR_TABLE
from backend.crm.models import Customer
from backend.crm.normalise import name_key
from backend.org.models import Region, Role, User
from backend.reports import demo
from backend.sales.models import Order, OrderLine, OrderStatus, Product
from backend.sales.serials import vin_check_digit

REPS = 2000
LOGISTICS = 300
API_CUSTOMERS = 5000
REP_PHONE_BASE = 8613700000000
WMS_PHONE_BASE = 8613600000000
API_REP = "bench-api"
API_REP_PHONE = "+8613500000001"


def rep_phone(n: int) -> str:
    return f"+{REP_PHONE_BASE + n}"


def wms_phone(n: int) -> str:
    return f"+{WMS_PHONE_BASE + n}"


def seed() -> None:
    """Idempotent: a database that has the bench users is left as it is."""
    with acting(user=None, door=Door.SYSTEM):
        if not demo.is_seeded():
            demo.seed()
        if User.objects.filter(username=API_REP).exists():
            return
        with transaction.atomic():
            _users_and_orders()
            _api_rep()


def bench_reps() -> list[User]:
    """The bench reps, in the order they were made."""
    return list(User.objects.filter(username__startswith="bench-rep-").order_by("pk"))


def _users(prefix: str, count: int, role: str, phone, **fields) -> list[User]:
    password = User.objects.get(username="zhang").password  # one hash for all: hashing is slow by design
    return bulk_create_with_history(
        [
            User(username=f"{prefix}-{n}", first_name=f"{prefix} {n}", phone=phone(n), role=role,
                 password=password, preferred_language="en", **fields)
            for n in range(count)
        ],
        User,
        batch_size=1000,
    )


def _users_and_orders() -> None:
    wang = User.objects.get(username="wang")
    reps = _users("bench-rep", REPS, Role.REP, rep_phone, branch=wang.branch, manager=wang)
    _users("bench-wms", LOGISTICS, Role.LOGISTICS, wms_phone)
    reps = bench_reps()
    region = Region.objects.get(code="HB")
    customers = _customers([(rep, f"Bench Customer {rep.username}") for rep in reps], region)
    _orders([(f"BO-{n}", customer) for n, customer in enumerate(customers)])


def _customers(owned: list[tuple[User, str]], region: Region) -> list[Customer]:
    customers = [
        Customer(name=name, name_key=name_key(name), owner=owner, region=region, address="Wuhan",
                 phone=None, latitude=30.59, longitude=114.30)
        for owner, name in owned
    ]
    return bulk_create_with_history(customers, Customer, batch_size=1000)


def _orders(numbered: list[tuple[str, Customer]]) -> None:
    product = Product.objects.get(code="BCD470")
    now = timezone.now()
    orders = bulk_create_with_history(
        [
            Order(number=number, customer=customer, rep_id=customer.owner_id, status=OrderStatus.CONFIRMED,
                  amount=product.price, ordered_at=now - timedelta(days=2))
            for number, customer in numbered
        ],
        Order,
        batch_size=1000,
    )
    OrderLine.objects.bulk_create(
        [OrderLine(order=order, product=product, quantity=1, unit_price=product.price) for order in orders],
        batch_size=1000,
    )


def _api_rep() -> None:
    wang = User.objects.get(username="wang")
    rep = _users("bench-api-rep", 1, Role.REP, lambda n: API_REP_PHONE, branch=wang.branch, manager=wang)[0]
    User.objects.filter(pk=rep.pk).update(username=API_REP)
    rep = User.objects.get(pk=rep.pk)
    region = Region.objects.get(code="HB")
    _customers([(rep, f"Sync Customer {n:05d} Trading") for n in range(API_CUSTOMERS)], region)


# What inbound runs record for the bench users (and the history rows of it), each table with
# the condition that finds those rows.
_RUN_ROWS = [
    ("notifications_notification", "recipient_id IN (SELECT id FROM bench)"),
    ("sms_gateway_outboundmessage", "user_id IN (SELECT id FROM bench) OR \"to\" IN (SELECT phone FROM bench) "
                                    "OR in_reply_to_id IN (SELECT id FROM sms_gateway_inboundmessage "
                                    "WHERE sender IN (SELECT phone FROM bench))"),
    ("sms_gateway_inboundmessage", "sender IN (SELECT phone FROM bench)"),
    ("sales_historicalreward", "rep_id IN (SELECT id FROM bench)"),
    ("sales_reward", "rep_id IN (SELECT id FROM bench)"),
    ("sales_historicalsale", "rep_id IN (SELECT id FROM bench)"),
    ("sales_sale", "rep_id IN (SELECT id FROM bench)"),
    ("sales_historicalshipment", "order_id IN (SELECT id FROM sales_order WHERE number LIKE %s)"),
    ("sales_shipment", "order_id IN (SELECT id FROM sales_order WHERE number LIKE %s)"),
    ("core_fieldreport", "reporter_id IN (SELECT id FROM bench)"),
]


def clear_runs() -> None:
    """Every inbound run starts from the seeded state: the bench reps have no sales, their orders
    are confirmed and unshipped, their numbers have sent nothing. Otherwise each run would find
    the sales and shipments of all the runs before it: a rep's SOLD reply counts the day's sales
    and STATUS lists the shipments awaiting OK, so the figures would drift run by run."""
    bench = "WITH bench AS (SELECT id, phone FROM org_user WHERE username LIKE %s OR username LIKE %s) "
    users, orders = ["bench-rep-%", "bench-wms-%"], "BO-%"
    with transaction.atomic(), connection.cursor() as cursor:
        for table, rows in _RUN_ROWS:
            cursor.execute(f"{bench} DELETE FROM {table} WHERE {rows}", users + [orders] * rows.count("%s"))
        cursor.execute("UPDATE sales_order SET status = %s WHERE number LIKE %s", [OrderStatus.CONFIRMED, orders])
    with connection.cursor() as cursor:
        # A session of the stack left idle in a transaction would otherwise hold the bench, and then
        # the stack, waiting behind the rewrite's exclusive lock.
        cursor.execute("SET lock_timeout = '5s'")
        # Rewritten with their indexes, not only vacuumed: a vacuum frees the deleted rows' space
        # but never shrinks an index, so each run wrote into bigger indexes than the run before
        # (238 MB of them after a day of runs; 6 MB rebuilt), and PostgreSQL's CPU per text crept
        # up run by run. Analyzed, so the planner sees the tables as they are.
        for table, _ in _RUN_ROWS:
            cursor.execute(f"VACUUM FULL ANALYZE {table}")
        # The floor's table starts each run empty too, as the pipeline's tables start without the runs before.
        cursor.execute("SELECT to_regclass(%s)", [FLOOR_TABLE])
        if cursor.fetchone()[0] is not None:
            cursor.execute(f"TRUNCATE {FLOOR_TABLE}")
        cursor.execute("RESET lock_timeout")


_vins = itertools.count(1)


def fresh_vin(prefix: str) -> str:
    """A VIN nobody reported yet, with a correct check digit. `prefix`: 6 letters/digits per run."""
    body = f"LB{prefix[:6]:0<6}X{next(_vins):08d}"  # 2 + 6 + 1 (check digit's place) + 8 = 17
    return body[:8] + vin_check_digit(body) + body[9:]
