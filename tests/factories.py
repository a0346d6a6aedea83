"""Factories for every model, in one place."""

from datetime import date
from decimal import Decimal

import factory
from django.utils import timezone

from backend.core.models import FieldReport
from backend.crm.models import Activity, Contact, Customer, Opportunity, Stage, Tip
from backend.org.models import Branch, Division, Region, Role, User
from backend.sales.models import Order, OrderLine, Product, Reward, RewardRule, Sale, SerialRule, Shipment


class DivisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Division
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"D{n}")
    name = factory.LazyAttribute(lambda o: f"Division {o.code}")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n}")
    name = factory.LazyAttribute(lambda o: f"Region {o.code}")


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"B{n}")
    name = factory.LazyAttribute(lambda o: f"Branch {o.code}")
    region = factory.SubFactory(RegionFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"User{n}")
    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    role = Role.REP
    branch = factory.SubFactory(BranchFactory)
    preferred_language = "en"
    password = factory.django.Password("demo-pass-123")


class RepFactory(UserFactory):
    role = Role.REP


class ManagerFactory(UserFactory):
    role = Role.MANAGER


class ExecutiveFactory(UserFactory):
    role = Role.EXECUTIVE
    branch = None


class LogisticsFactory(UserFactory):
    role = Role.LOGISTICS
    branch = None


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n} Trading")
    phone = factory.Sequence(lambda n: f"+86277{n:07d}")
    owner = factory.SubFactory(RepFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage
        django_get_or_create = ("division", "order")

    division = factory.SubFactory(DivisionFactory)
    order = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda o: f"Stage {o.order}")
    probability = 20


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda o: o.customer.owner)
    name = factory.Sequence(lambda n: f"Deal {n}")
    stage = factory.SubFactory(StageFactory)
    amount = Decimal("10000")
    stage_entered_at = factory.LazyFunction(timezone.now)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    customer = factory.SubFactory(CustomerFactory)
    rep = factory.LazyAttribute(lambda o: o.customer.owner)
    occurred_at = factory.LazyFunction(timezone.now)
    channel = "app"


class TipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tip

    author = factory.SubFactory(RepFactory)
    title = factory.Sequence(lambda n: f"Tip {n}")
    body = "Bring the test-drive car to the customer's yard."


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"P{n}")
    name = factory.LazyAttribute(lambda o: f"Product {o.code}")
    division = factory.SubFactory(DivisionFactory)
    serial_rule = SerialRule.NONE
    price = Decimal("1000")
    cost = Decimal("700")


class RewardRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RewardRule

    product = factory.SubFactory(ProductFactory)
    amount_per_unit = Decimal("20")
    valid_from = date(2020, 1, 1)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"PO-{5000 + n}")
    customer = factory.SubFactory(CustomerFactory)
    rep = factory.LazyAttribute(lambda o: o.customer.owner)
    amount = Decimal("2000")
    ordered_at = factory.LazyFunction(timezone.now)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = Decimal("1000")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    carrier = "SF"
    tracking = factory.Sequence(lambda n: f"SF{n:08d}")
    shipped_at = factory.LazyFunction(timezone.now)


class SaleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sale

    product = factory.SubFactory(ProductFactory)
    rep = factory.SubFactory(RepFactory)
    sold_at = factory.LazyFunction(timezone.now)
    unit_price = Decimal("1000")
    reference = factory.LazyAttribute(
        lambda o: FieldReport.objects.create(kind=FieldReport.Kind.SALE, reporter=o.rep, channel="app").reference
    )


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    sale = factory.SubFactory(SaleFactory)
    rep = factory.LazyAttribute(lambda o: o.sale.rep)
    amount = Decimal("20")


class StageEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.StageEntry"

    opportunity = factory.SubFactory(OpportunityFactory)
    stage = factory.LazyAttribute(lambda o: o.opportunity.stage)
    entered_at = factory.LazyFunction(timezone.now)
