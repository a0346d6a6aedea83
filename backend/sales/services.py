"""Writes of sales, rewards and shipments: the same functions serve SMS, the app and the admin."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.core.errors import ApplicationError, Forbidden, NotFound
from backend.core.models import FieldReport
from backend.crm.models import Customer
from backend.crm.selectors import customer_for_hint
from backend.crm.services import activity_void, conflict_open
from backend.notifications.services import in_language_of, notify
from backend.org.models import Role
from backend.reports.services import dashboard_sale_recorded
from backend.sales.models import Order, OrderStatus, Product, Reward, RewardStatus, Sale, SerialRule, Shipment
from backend.sales.selectors import order_get_by_number, product_get_by_code, reward_rule_for, sale_holding_serial
from backend.sales.serials import vin_problem

UNDO_WINDOW = timedelta(minutes=30)
MAX_QUANTITY = 999


@dataclass(frozen=True)
class SaleReport:
    reference: str
    product: Product
    sales: list[Sale]
    reward_total: Decimal
    customer: Customer | None
    conflict_opened: bool


def _check_units(product: Product, quantity: int, serials: list[str]) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ApplicationError(_("Quantity must be a whole number from 1 to 999."), code="bad_quantity")
    if serials and len(serials) != quantity:
        raise ApplicationError(
            _("You gave %(qty)s units but %(n)s serial numbers; they must agree.")
            % {"qty": quantity, "n": len(serials)},
            code="qty_serial_mismatch",
        )
    if product.requires_serial and len(serials) != quantity:
        raise ApplicationError(
            _("%(code)s needs a serial number (VIN) for each unit.") % {"code": product.code},
            code="serial_required",
        )
    if len(set(serials)) != len(serials):
        raise ApplicationError(_("The same serial number is given twice."), code="serial_repeated")
    for serial in serials:
        _check_serial(product, serial)


def _check_serial(product: Product, serial: str) -> None:
    if product.serial_rule == SerialRule.VIN:
        problem = vin_problem(serial)
        if problem == "bad_vin":
            raise ApplicationError(
                _("%(serial)s is not a VIN: 17 letters and digits, never I, O or Q.") % {"serial": serial},
                code="bad_vin", extra={"serial": serial},
            )
        if problem == "bad_vin_check_digit":
            raise ApplicationError(
                _("VIN %(serial)s has a wrong check digit (9th character): please check for a typo.")
                % {"serial": serial},
                code="bad_vin_check_digit", extra={"serial": serial},
            )
    held = sale_holding_serial(serial)
    if held is not None:
        raise _serial_taken(held)


def _serial_taken(held: Sale) -> ApplicationError:
    return ApplicationError(
        _("%(serial)s was already reported (%(reference)s).") % {"serial": held.serial, "reference": held.reference},
        code="serial_taken", status=409, extra={"serial": held.serial, "reference": held.reference},
    )


def _resolve_customer(rep: Any, hint: str | None, channel: str) -> tuple[Customer | None, bool]:
    """The rep's customer named by `hint`. A phone of another rep's customer records the sale
    without it and opens a conflict, telling the rep nothing about that customer."""
    if not hint:
        return None, False
    try:
        return customer_for_hint(user=rep, hint=hint), False
    except NotFound as missing:
        phone = missing.extra.get("phone")
        other = Customer.objects.filter(phone=phone).exclude(owner=rep).first() if phone else None
        if other is None:
            raise
        conflict_open(existing=other, reported_by=rep, source=channel, matched_on="phone", proposed={"phone": phone})
        return None, True


def sale_report(
    *, rep: Any, product_code: str, quantity: int | None = None, serials: list[str] | None = None,
    customer_hint: str | None = None, channel: str, sold_at: datetime | None = None, ids: list[Any] | None = None,
    customer: Customer | None = None,
) -> SaleReport:
    """Record one sale per unit and its reward (pending approval), under one reference.

    A serial already held by a valid sale is refused naming that sale's reference, also when two
    reports race: the partial unique index settles it and the loser is told who won.
    """
    if rep.role != Role.REP:
        raise Forbidden(_("Only reps report sales."), code="forbidden_role")
    serials = [s.strip().upper() for s in serials or []]
    quantity = quantity or len(serials) or 1
    product = product_get_by_code(product_code)
    _check_units(product, quantity, serials)
    sold_at = sold_at or timezone.now()
    try:
        with transaction.atomic():
            # The app names the customer by id (already in the rep's sight); SMS by a hint.
            conflict_opened = False
            if customer is None:
                customer, conflict_opened = _resolve_customer(rep, customer_hint, channel)
            report = FieldReport.objects.create(kind=FieldReport.Kind.SALE, reporter=rep, channel=channel)
            sales = _create_units(rep, product, quantity, serials, customer, report.reference, channel, sold_at, ids)
    except IntegrityError:
        raced = next((held for s in serials if (held := sale_holding_serial(s))), None)
        if raced is None:
            raise
        raise _serial_taken(raced) from None
    # Managers' and executives' dashboards show it live once committed (robust: never fails the sale).
    # A lambda, not a partial: Django names a failing robust callback by its __qualname__.
    transaction.on_commit(lambda: dashboard_sale_recorded(sales=sales), robust=True)
    reward_total = sum((s.reward.amount for s in sales if hasattr(s, "reward")), Decimal(0))
    return SaleReport(report.reference, product, sales, reward_total, customer, conflict_opened)


def _create_units(
    rep: Any, product: Product, quantity: int, serials: list[str], customer: Customer | None,
    reference: str, channel: str, sold_at: datetime, ids: list[Any] | None,
) -> list[Sale]:
    rule = reward_rule_for(product, timezone.localdate(sold_at))
    sales = []
    for unit in range(quantity):
        sale = Sale.objects.create(
            **({"id": ids[unit]} if ids else {}),
            reference=reference, product=product, rep=rep, customer=customer,
            serial=serials[unit] if serials else None, unit_price=product.price, channel=channel, sold_at=sold_at,
        )
        if rule is not None:
            sale.reward = Reward.objects.create(sale=sale, rep=rep, rule=rule, amount=rule.amount_per_unit)
        sales.append(sale)
    return sales


def report_undo(*, user: Any, reference: str | None = None, now: datetime | None = None) -> FieldReport:
    """Void the user's last (or named) report if it is under 30 minutes old. Nothing is deleted:
    sales and activities are voided, rewards cancelled, and the history keeps both states."""
    now = now or timezone.now()
    with transaction.atomic():
        report = _undoable_report(user, reference)
        if now - report.created_at > UNDO_WINDOW:
            raise ApplicationError(
                _("%(reference)s is more than 30 minutes old; ask your manager to correct it.")
                % {"reference": report.reference},
                code="too_old_to_undo", extra={"reference": report.reference},
            )
        report.voided_at = now
        report.save(update_fields=["voided_at"])
        if report.kind == FieldReport.Kind.SALE:
            _void_sales(report.reference, user, now)
        else:
            activity_void(report=report, by=user)
    return report


def _undoable_report(user: Any, reference: str | None) -> FieldReport:
    reports = FieldReport.objects.select_for_update().filter(
        reporter=user, voided_at__isnull=True, kind__in=[FieldReport.Kind.SALE, FieldReport.Kind.VISIT]
    )
    if reference:
        parsed = FieldReport.pk_from_reference(reference)
        report = reports.filter(kind=parsed[0], pk=parsed[1]).first() if parsed else None
    else:
        report = reports.order_by("-created_at", "-pk").first()
    if report is None:
        raise NotFound(
            _("No report %(reference)s of yours to undo.") % {"reference": reference or ""},
            code="nothing_to_undo",
        )
    return report


def _void_sales(reference: str, user: Any, now: datetime) -> None:
    for sale in Sale.objects.filter(reference=reference, voided_at__isnull=True).select_related("reward"):
        sale.voided_at, sale.voided_by = now, user
        sale.save(update_fields=["voided_at", "voided_by", "updated_at"])
        reward = getattr(sale, "reward", None)
        if reward is not None and reward.status != RewardStatus.PAID:
            reward.status, reward.decided_at = RewardStatus.CANCELLED, now
            reward.save(update_fields=["status", "decided_at", "updated_at"])


def shipment_record(
    *, actor: Any, order_number: str, carrier: str = "", tracking: str = "", eta: date | None = None,
    channel: str, id: Any = None,
) -> Shipment:
    """Record a shipment and text the order's rep at once, asking them to tell the customer."""
    if actor.role not in (Role.LOGISTICS, Role.MANAGER, Role.EXECUTIVE):
        raise Forbidden(_("Only logistics and managers record shipments."), code="forbidden_role")
    with transaction.atomic():
        order = order_get_by_number(user=actor, number=order_number)
        order = Order.objects.select_for_update().select_related("customer", "rep").get(pk=order.pk)
        if order.status == OrderStatus.CANCELLED:
            raise ApplicationError(
                _("Order %(number)s is cancelled.") % {"number": order.number}, code="order_cancelled"
            )
        now = timezone.now()
        report = FieldReport.objects.create(kind=FieldReport.Kind.SHIPMENT, reporter=actor, channel=channel)
        shipment = Shipment.objects.create(
            **({"id": id} if id else {}), order=order, carrier=carrier or "", tracking=tracking or "", eta=eta,
            shipped_at=now, reported_by=actor, channel=channel, rep_notified_at=now, reference=report.reference,
        )
        if order.status == OrderStatus.CONFIRMED:
            order.status = OrderStatus.SHIPPED
            order.save(update_fields=["status", "updated_at"])
        _tell_rep_of_shipment(shipment)
    return shipment


def _tell_rep_of_shipment(shipment: Shipment) -> None:
    order, rep = shipment.order, shipment.order.rep
    with in_language_of(rep):
        parts = {
            "number": order.number, "customer": order.customer.name,
            "how": " ".join(p for p in (shipment.carrier, shipment.tracking) if p),
            "eta": shipment.eta.strftime("%m-%d") if shipment.eta else _("soon"),
        }
        text = _(
            "%(number)s shipped %(how)s, ETA %(eta)s. Please tell %(customer)s to prepare receiving, "
            "then reply OK %(number)s"
        ) % parts
    notify(
        recipient=rep, kind="shipment", text=text, sms=True,
        data={"order": order.number, "shipment_id": str(shipment.pk), "eta": str(shipment.eta or "")},
    )


def _open_shipment(user: Any, order_number: str, *, pending: str) -> Shipment:
    order = order_get_by_number(user=user, number=order_number)
    shipment = (
        Shipment.objects.select_for_update()
        .filter(order=order, **{f"{pending}__isnull": True})
        .select_related("order")
        .order_by("-shipped_at")
        .first()
    )
    if shipment is None:
        raise NotFound(_("No open shipment on order %(number)s.") % {"number": order.number}, code="no_open_shipment")
    return shipment


def shipment_acknowledge(*, rep: Any, order_number: str) -> Shipment:
    """The rep has told the customer to prepare receiving."""
    with transaction.atomic():
        shipment = _open_shipment(rep, order_number, pending="customer_told_at")
        if shipment.order.rep_id != rep.pk:
            raise Forbidden(_("Only the order's rep confirms the customer was told."), code="forbidden_role")
        shipment.customer_told_at = timezone.now()
        shipment.save(update_fields=["customer_told_at", "updated_at"])
    return shipment


def shipment_receive(*, user: Any, order_number: str) -> Shipment:
    """The goods arrived: order-to-receipt time is now known."""
    if user.role not in (Role.REP, Role.LOGISTICS, Role.MANAGER, Role.EXECUTIVE):
        raise Forbidden(_("You may not confirm receipt."), code="forbidden_role")
    with transaction.atomic():
        shipment = _open_shipment(user, order_number, pending="received_at")
        shipment.received_at = timezone.now()
        shipment.save(update_fields=["received_at", "updated_at"])
        order = shipment.order
        order.status = OrderStatus.RECEIVED
        order.save(update_fields=["status", "updated_at"])
    return shipment


def rewards_approve(*, rewards: Any, by: Any) -> int:
    """Approve pending rewards (one history row each)."""
    count = 0
    with transaction.atomic():
        for reward in rewards.select_for_update().filter(status=RewardStatus.PENDING):
            reward.status, reward.decided_by, reward.decided_at = RewardStatus.APPROVED, by, timezone.now()
            reward.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
            count += 1
    return count
