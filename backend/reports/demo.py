"""The demo data set of DEMO_DATA.md, plus months of generated history so dashboards have
trends. Deterministic: the same seed gives the same history, relative to today."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from audit.context import Door, acting
from backend.core.models import FieldReport
from backend.crm.models import (
    Activity,
    BuyingRole,
    Contact,
    Customer,
    Opportunity,
    OpportunityStatus,
    Stage,
    StageEntry,
)
from backend.org.models import Branch, Division, Region, Role, User
from backend.sales.models import (
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Reward,
    RewardRule,
    Sale,
    SerialRule,
    Shipment,
)
from backend.sales.serials import vin_check_digit

PASSWORD = "demo-pass-123"
MONTHS_OF_HISTORY = 6
# Wuhan Motors Ltd, the key account whose monthly volume falls three months in a row.
FALLING_ACCOUNT_UNITS = [9, 10, 9, 7, 5, 3]

PEOPLE = [
    # username, first, last, role, branch, manager, phone
    ("exec", "Yang", "Liu", Role.EXECUTIVE, None, None, "+8613800000012"),
    ("wang", "Fang", "Wang", Role.MANAGER, "WUH", "exec", "+8613800000010"),
    ("zhao", "Lei", "Zhao", Role.MANAGER, "SHA", "exec", "+8613800000011"),
    ("zhang", "Wei", "Zhang", Role.REP, "WUH", "wang", "+8613800000001"),
    ("li", "Na", "Li", Role.REP, "WUH", "wang", "+8613800000002"),
    ("chen", "Jie", "Chen", Role.REP, "SHA", "zhao", "+8613800000003"),
    ("wms", "Warehouse", "", Role.LOGISTICS, None, None, "+8613800000020"),
]
STAGES = {
    "AUTO": [
        ("Lead", 10, 7), ("Qualified", 25, 14), ("Test drive", 50, 10), ("Negotiation", 75, 14), ("Contract", 90, 7),
    ],
    "HOME": [("Lead", 10, 7), ("Qualified", 30, 14), ("Proposal", 60, 14), ("Negotiation", 80, 10)],
}


def is_seeded() -> bool:
    return User.objects.filter(username="zhang", phone="+8613800000001").exists()


def holds_other_data() -> bool:
    return User.objects.exclude(username__in=[p[0] for p in PEOPLE]).exists() or Customer.objects.exists()


@transaction.atomic
def seed(*, today: date | None = None, rng_seed: int = 42) -> None:
    """Load the demo set; the generated history is made by a seeded generator (not for secrets)."""
    today = today or timezone.localdate()
    with acting(user=None, door=Door.SYSTEM):
        divisions, branches = _organisation()
        people = _people(branches, divisions)
        products = _products(divisions)
        customers = _customers(people)
        _orders(people, customers, products)
        _stages(divisions)
        _history(random.Random(rng_seed), today, people, customers, products)  # noqa: S311


def _organisation() -> tuple[dict, dict]:
    divisions = {
        code: Division.objects.update_or_create(code=code, defaults={"name": name})[0]
        for code, name in (("AUTO", "Cars"), ("HOME", "Appliances"))
    }
    hubei = Region.objects.update_or_create(code="HB", defaults={"name": "Hubei"})[0]
    shanghai = Region.objects.update_or_create(code="SH", defaults={"name": "Shanghai"})[0]
    branches = {
        "WUH": Branch.objects.update_or_create(code="WUH", defaults={"name": "Wuhan", "region": hubei})[0],
        "SHA": Branch.objects.update_or_create(code="SHA", defaults={"name": "Shanghai", "region": shanghai})[0],
    }
    return divisions, branches


def _people(branches: dict, divisions: dict) -> dict[str, User]:
    managers_group = _managers_group()
    people: dict[str, User] = {}
    for username, first, last, role, branch, manager, phone in PEOPLE:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first, "last_name": last, "role": role, "phone": phone,
                "branch": branches.get(branch), "manager": people.get(manager),
                "division": divisions["AUTO"] if branch == "WUH" and role == Role.REP else None,
                "is_staff": role in (Role.MANAGER, Role.EXECUTIVE), "is_superuser": role == Role.EXECUTIVE,
                "preferred_language": "zh-hans" if role == Role.REP else "en",
            },
        )
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        if role == Role.MANAGER:
            user.groups.add(managers_group)
        people[username] = user
    return people


def _managers_group() -> Group:
    """Managers may view and change business records in the admin; scoping narrows the rows."""
    group, _ = Group.objects.get_or_create(name="Managers")
    apps = ["org", "crm", "sales", "notifications", "sms_gateway", "audit", "reports"]
    group.permissions.set(
        Permission.objects.filter(content_type__app_label__in=apps, codename__regex=r"^(view|change)_")
    )
    return group


def _products(divisions: dict) -> dict[str, Product]:
    products = {}
    for code, name, division, rule, price, cost, reward in (
        ("CS75", "Changan CS75 SUV", "AUTO", SerialRule.VIN, "120000", "98000", "200"),
        ("UNIK", "Changan UNI-K", "AUTO", SerialRule.VIN, "160000", "128000", "300"),
        ("BCD470", "Haier BCD-470 fridge", "HOME", SerialRule.NONE, "4200", "3100", "20"),
    ):
        product = Product.objects.update_or_create(
            code=code,
            defaults={"name": name, "division": divisions[division], "serial_rule": rule,
                      "price": Decimal(price), "cost": Decimal(cost)},
        )[0]
        RewardRule.objects.get_or_create(
            product=product, valid_from=date(2020, 1, 1), defaults={"amount_per_unit": Decimal(reward)}
        )
        products[code] = product
    return products


def _customers(people: dict) -> dict[str, Customer]:
    hubei, shanghai = Region.objects.get(code="HB"), Region.objects.get(code="SH")
    rows = [
        ("Wuhan Motors Ltd", "+862787000001", "zhang", hubei, True, (30.5928, 114.3055)),
        ("Hubei Home Store", "+862787000002", "zhang", hubei, False, (30.5801, 114.2734)),
        ("Optics Valley Trading", "+862787000003", "li", hubei, False, (30.5052, 114.4007)),
        ("Pudong Auto Mall", "+862150000001", "chen", shanghai, False, (31.2304, 121.5440)),
    ]
    customers = {}
    for name, phone, owner, region, key, (lat, lon) in rows:
        customers[name] = Customer.objects.update_or_create(
            name=name,
            defaults={"phone": phone, "owner": people[owner], "region": region,
                      "is_key_account": key, "latitude": lat, "longitude": lon, "address": f"{region.name}"},
        )[0]
    wuhan = customers["Wuhan Motors Ltd"]
    Contact.objects.update_or_create(
        customer=wuhan, name="Mr. Gao Jun",
        defaults={"title": "General manager", "buying_role": BuyingRole.DECISION_MAKER, "is_key": True,
                  "phone": "+8613900000101", "purchase_criteria": "Total cost of ownership, delivery date"},
    )
    Contact.objects.update_or_create(
        customer=wuhan, name="Ms. Sun Li",
        defaults={"title": "Fleet manager", "buying_role": BuyingRole.INFLUENCER, "is_key": True,
                  "phone": "+8613900000102", "purchase_criteria": "Reliability, service network"},
    )
    return customers


def _orders(people: dict, customers: dict, products: dict) -> None:
    now = timezone.now()
    for number, customer, rep, product, qty in (
        ("PO-1001", "Wuhan Motors Ltd", "zhang", "CS75", 2),
        ("PO-1002", "Optics Valley Trading", "li", "BCD470", 10),
        ("PO-1003", "Pudong Auto Mall", "chen", "UNIK", 1),
    ):
        price = products[product].price
        order, created = Order.objects.update_or_create(
            number=number,
            defaults={"customer": customers[customer], "rep": people[rep], "status": OrderStatus.CONFIRMED,
                      "amount": price * qty, "ordered_at": now - timedelta(days=3), "due_date": None},
        )
        if created:
            OrderLine.objects.create(order=order, product=products[product], quantity=qty, unit_price=price)


def _stages(divisions: dict) -> None:
    for division, stages in STAGES.items():
        for order, (name, probability, usual_days) in enumerate(stages, start=1):
            Stage.objects.update_or_create(
                division=divisions[division], order=order,
                defaults={"name": name, "probability": probability, "usual_days": usual_days,
                          "entry_criteria": f"Ready for {name.lower()}"},
            )


def _history(rng: random.Random, today: date, people: dict, customers: dict, products: dict) -> None:
    """Past sales, orders with shipments, visits and deals for every rep (bulk-created, with
    their history rows, so the demo loads in a moment)."""
    if Sale.objects.exists():
        return
    reps = {name: people[name] for name in ("zhang", "li", "chen")}
    sales: list[tuple[User, Customer, Product, datetime]] = []
    visits: list[Activity] = []
    for months_ago in range(MONTHS_OF_HISTORY, 0, -1):
        month_start = _month_start(today, months_ago)
        for rep_name, rep in reps.items():
            for customer in [c for c in customers.values() if c.owner_id == rep.pk]:
                units = _units_for(rng, customer, months_ago)
                for product in _products_for(customer, products):
                    sales += [(rep, customer, product, _random_day(rng, month_start)) for _ in range(units)]
                visits += _past_visits(rng, rep, customer, month_start)
            _past_orders(rng, rep, customers, products, month_start, rep_name, months_ago)
    _past_sales(sales)
    bulk_create_with_history(visits, Activity)
    _deals(rng, today, reps, customers)


def _month_start(today: date, months_ago: int) -> date:
    year, month = today.year, today.month - months_ago
    while month <= 0:
        month += 12
        year -= 1
    return date(year, month, 1)


def _units_for(rng: random.Random, customer: Customer, months_ago: int) -> int:
    if customer.name == "Wuhan Motors Ltd":
        return FALLING_ACCOUNT_UNITS[MONTHS_OF_HISTORY - months_ago]
    return rng.randint(3, 9) + (MONTHS_OF_HISTORY - months_ago)  # the rest grow a little


def _products_for(customer: Customer, products: dict) -> list[Product]:
    if customer.name in ("Wuhan Motors Ltd",):
        return [products["CS75"]]
    if customer.name == "Pudong Auto Mall":
        return [products["UNIK"]]
    return [products["BCD470"]]


def _aware(day: date, rng: random.Random) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(rng.randint(9, 17), rng.randint(0, 59))))


def _random_day(rng: random.Random, month: date) -> datetime:
    return _aware(month + timedelta(days=rng.randint(0, 27)), rng)


_vin_counter = iter(range(1, 10**6))


def _fresh_vin() -> str:
    body = f"LS5A3DBE0M{next(_vin_counter):07d}"
    return body[:8] + vin_check_digit(body[:8] + "0" + body[9:]) + body[9:]


def _past_sales(specs: list[tuple[User, Customer, Product, datetime]]) -> None:
    reports = FieldReport.objects.bulk_create(
        FieldReport(kind=FieldReport.Kind.SALE, reporter=rep, channel=Door.SMS, created_at=sold_at)
        for rep, _, _, sold_at in specs
    )
    sales = bulk_create_with_history(
        [
            Sale(
                reference=report.reference, product=product, rep=rep, customer=customer, channel=Door.SMS,
                serial=_fresh_vin() if product.requires_serial else None, unit_price=product.price, sold_at=sold_at,
            )
            for report, (rep, customer, product, sold_at) in zip(reports, specs, strict=True)
        ],
        Sale,
    )
    rules = {rule.product_id: rule for rule in RewardRule.objects.all()}
    bulk_create_with_history(
        [
            Reward(sale=sale, rep=sale.rep, rule=rules[sale.product_id], amount=rules[sale.product_id].amount_per_unit,
                   status="approved")
            for sale in sales
        ],
        Reward,
    )


def _past_visits(rng: random.Random, rep: User, customer: Customer, month: date) -> list[Activity]:
    return [
        Activity(customer=customer, rep=rep, kind="visit", channel=Door.APP, note="Regular visit",
                 occurred_at=_random_day(rng, month))
        for _ in range(rng.randint(2, 4))
    ]


def _past_orders(rng, rep, customers, products, month, rep_name, months_ago) -> None:
    customer = next(c for c in customers.values() if c.owner_id == rep.pk)
    product = _products_for(customer, products)[0]
    ordered_at = _aware(month + timedelta(days=rng.randint(0, 10)), rng)
    qty = rng.randint(1, 5)
    order = Order.objects.create(
        number=f"PO-{rep_name.upper()}-{months_ago:02d}", customer=customer, rep=rep, status=OrderStatus.RECEIVED,
        amount=product.price * qty, ordered_at=ordered_at, due_date=(ordered_at + timedelta(days=30)).date(),
        paid_date=(ordered_at + timedelta(days=rng.randint(20, 45))).date(),
    )
    OrderLine.objects.create(order=order, product=product, quantity=qty, unit_price=product.price)
    shipped = ordered_at + timedelta(days=rng.randint(1, 3))
    Shipment.objects.create(
        order=order, carrier="SF", tracking=f"SF{rng.randint(10**8, 10**9)}", shipped_at=shipped,
        eta=(shipped + timedelta(days=2)).date(), channel=Door.SMS, rep_notified_at=shipped,
        customer_told_at=shipped + timedelta(hours=rng.randint(1, 6)),
        received_at=shipped + timedelta(days=rng.randint(1, 4)),
    )


def _deals(rng: random.Random, today: date, reps: dict, customers: dict) -> None:
    now = timezone.now()
    for customer in customers.values():
        division_code = "HOME" if customer.name in ("Hubei Home Store", "Optics Valley Trading") else "AUTO"
        stages = list(Stage.objects.filter(division__code=division_code).order_by("order"))
        for n, status in enumerate((OpportunityStatus.OPEN, OpportunityStatus.OPEN, OpportunityStatus.WON,
                                    OpportunityStatus.LOST)):
            stage = stages[min(n + rng.randint(0, 2), len(stages) - 1)]
            entered = now - timedelta(days=rng.randint(3, 40))
            deal = Opportunity.objects.create(
                customer=customer, owner=customer.owner, name=f"{customer.name} deal {n + 1}", stage=stage,
                amount=Decimal(rng.randrange(50_000, 900_000, 10_000)), status=status,
                expected_close=today + timedelta(days=rng.randint(-30, 90)), stage_entered_at=entered,
                close_reason="" if status in (OpportunityStatus.OPEN, OpportunityStatus.WON) else "Price",
                closed_at=None if status == OpportunityStatus.OPEN else now - timedelta(days=rng.randint(1, 20)),
                next_step="Follow up call" if status == OpportunityStatus.OPEN else "",
            )
            StageEntry.objects.create(opportunity=deal, stage=stage, entered_at=entered, by=customer.owner)
