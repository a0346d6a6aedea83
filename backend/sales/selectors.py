"""Reads of sales, orders and shipments, always through the caller's scope."""

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.core.errors import NotFound
from backend.core.queries import get_or_not_found
from backend.crm.models import Customer, OpportunityStatus
from backend.crm.selectors import activity_list, contact_list, customer_owners, opportunity_list
from backend.org.scoping import scope
from backend.sales.models import Order, Product, Reward, RewardRule, RewardStatus, Sale, Shipment

_ORDER_PARTS = re.compile(r"^([A-Za-z]+)[\s-]*(\d+)$")


def order_number_forms(number: str) -> set[str]:
    """`po1001`, `PO 1001` and `PO-1001` name the same order."""
    cleaned = number.strip().upper()
    parts = _ORDER_PARTS.match(cleaned)
    if not parts:
        return {cleaned}
    letters, digits = parts.groups()
    return {f"{letters}-{digits}", f"{letters}{digits}", cleaned}


def order_get_by_number(*, user: Any, number: str) -> Order:
    order = (
        scope(Order.objects.all(), user)
        .select_related("customer", "rep")
        .filter(number__in=order_number_forms(number))
        .first()
    )
    if order is None:
        raise NotFound(_("Order %(number)s not found.") % {"number": number}, code="unknown_order")
    return order


def product_get_by_code(code: str) -> Product:
    product = Product.objects.filter(code=code.upper(), is_active=True).select_related("division").first()
    if product is None:
        raise NotFound(
            _("Unknown product %(code)s.") % {"code": code},
            code="unknown_product",
            extra={"suggestions": product_codes_like(code)},
        )
    return product


def product_codes_like(code: str, limit: int = 3) -> list[str]:
    codes = list(Product.objects.filter(is_active=True).values_list("code", flat=True))
    return difflib.get_close_matches(code.upper(), codes, n=limit, cutoff=0.3)


def reward_rule_for(product: Product, on: date) -> RewardRule | None:
    return (
        RewardRule.objects.filter(product=product, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("-valid_from")
        .first()
    )


def sale_holding_serial(serial: str) -> Sale | None:
    return Sale.objects.filter(serial=serial, voided_at__isnull=True).first()


@dataclass(frozen=True)
class Tally:
    sales_today: int
    rewards_today: Decimal
    sales_month: int
    rewards_month: Decimal
    awaiting_ok: list[str]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def tally(*, user: Any, today: date | None = None) -> Tally:
    """Today's and this month's sales and rewards, and shipments waiting for OK, in scope."""
    today = today or timezone.localdate()
    month_start = _day_start(today.replace(day=1))
    day_start, day_end = _day_start(today), _day_start(today + timedelta(days=1))
    sales = scope(Sale.objects.filter(voided_at__isnull=True, sold_at__gte=month_start, sold_at__lt=day_end), user)
    # One pass gives counts and reward sums: a reward belongs to one sale and to that sale's rep.
    live = Q(reward__status__in=[s for s in RewardStatus.values if s != RewardStatus.CANCELLED])
    today_only = Q(sold_at__gte=day_start)
    figures = sales.aggregate(
        month=Count("pk"), today=Count("pk", filter=today_only),
        rewards_month=Sum("reward__amount", filter=live), rewards_today=Sum("reward__amount", filter=live & today_only),
    )
    waiting = scope(
        Shipment.objects.filter(customer_told_at__isnull=True, received_at__isnull=True), user
    ).select_related("order")
    return Tally(
        sales_today=figures["today"],
        rewards_today=figures["rewards_today"] or Decimal(0),
        sales_month=figures["month"],
        rewards_month=figures["rewards_month"] or Decimal(0),
        awaiting_ok=sorted({s.order.number for s in waiting[:20]}),
    )


def sales_of_report(reference: str) -> QuerySet[Sale]:
    return Sale.objects.filter(reference=reference).select_related("product", "reward")


def order_list(*, user: Any, status: str | None = None, customer: Any = None) -> QuerySet[Order]:
    orders = (
        scope(Order.objects.all(), user)
        .select_related("customer", "rep")
        .prefetch_related("lines__product", Prefetch("shipments", queryset=Shipment.objects.order_by("shipped_at")))
    )
    if status:
        orders = orders.filter(status=status)
    return orders.filter(customer=customer) if customer is not None else orders


def order_get(*, user: Any, order_id: Any) -> Order:
    return get_or_not_found(order_list(user=user), order_id, _("Order not found."))


def shipment_list(*, user: Any) -> QuerySet[Shipment]:
    return scope(Shipment.objects.all(), user).select_related("order")


def sale_list(*, user: Any, customer: Any = None) -> QuerySet[Sale]:
    sales = scope(Sale.objects.all(), user).select_related("product", "customer", "reward")
    return sales.filter(customer=customer) if customer is not None else sales


def reward_list(*, user: Any) -> QuerySet[Reward]:
    return scope(Reward.objects.all(), user).select_related("sale")


OVERVIEW_RECENT = 20


@dataclass(frozen=True)
class CustomerOverview:
    """A customer's whole picture in one read, each part as the caller may see it."""

    customer: Customer
    contacts: list
    open_opportunities: list
    orders: list
    activities: list
    sales: list
    units_sold: int
    owners: list


def customer_overview(*, user: Any, customer: Customer) -> CustomerOverview:
    """Contacts and their buying roles, open deals, orders with shipments, recent visits and
    sales, and who owned the customer before. A fixed number of queries."""
    sales = sale_list(user=user, customer=customer).filter(voided_at__isnull=True)
    return CustomerOverview(
        customer=customer,
        contacts=list(contact_list(user=user, customer=customer).order_by("-is_key", "name")),
        open_opportunities=list(
            opportunity_list(user=user, customer=customer, status=OpportunityStatus.OPEN).order_by("expected_close")
        ),
        orders=list(order_list(user=user, customer=customer).order_by("-ordered_at")[:OVERVIEW_RECENT]),
        activities=list(
            activity_list(user=user, customer=customer).filter(voided_at__isnull=True)
            .order_by("-occurred_at")[:OVERVIEW_RECENT]
        ),
        sales=list(sales.order_by("-sold_at")[:OVERVIEW_RECENT]),
        units_sold=sales.count(),
        owners=customer_owners(customer),
    )
