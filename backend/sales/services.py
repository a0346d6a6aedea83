"""Writes of sales, rewards and shipments: the same functions serve SMS, the app and the admin."""

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.context import acting_as
from audit.history import bulk_create_with_door_history, update_with_door_history
from backend.core.errors import ApplicationError, Forbidden, NotFound
from backend.core.models import FieldReport
from backend.crm.models import Customer
from backend.crm.selectors import customer_for_hint
from backend.crm.services import activity_void, conflict_open
from backend.notifications.services import Notice, in_language_of, notify_many
from backend.org.models import Role
from backend.org.scoping import owners_in_sight
from backend.reports.services import dashboard_sales_recorded
from backend.sales.models import Order, OrderStatus, Product, Reward, RewardStatus, Sale, SerialRule, Shipment
from backend.sales.selectors import (
    order_get_by_number,
    order_number_forms,
    products_by_code,
    reward_rule_for,
    sales_holding_serials,
    unknown_order,
    unknown_product,
)
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


@dataclass(frozen=True)
class SaleRequest:
    """One report for `sale_reports`: what `sale_report` takes, for one rep."""

    rep: Any
    product_code: str
    quantity: int | None = None
    serials: Sequence[str] = ()
    customer_hint: str | None = None
    customer: Customer | None = None
    sold_at: datetime | None = None
    ids: Sequence[Any] | None = None
    language: str | None = None  # the rep's, for a refusal: a batch mixes languages


@dataclass(frozen=True)
class _Checked:
    request: SaleRequest
    product: Product
    quantity: int
    serials: list[str]


def sale_report(
    *, rep: Any, product_code: str, quantity: int | None = None, serials: list[str] | None = None,
    customer_hint: str | None = None, channel: str, sold_at: datetime | None = None, ids: list[Any] | None = None,
    customer: Customer | None = None,
) -> SaleReport:
    """Record one sale per unit and its reward (pending approval), under one reference.

    A serial already held by a valid sale is refused naming that sale's reference, also when two
    reports race: the partial unique index settles it and the loser is told who won.
    """
    request = SaleRequest(rep, product_code, quantity, tuple(serials or ()), customer_hint, customer, sold_at, ids)
    result = sale_reports([request], channel=channel)[0]
    if isinstance(result, ApplicationError):
        raise result
    return result


def sale_reports(requests: Sequence[SaleRequest], *, channel: str) -> list[SaleReport | ApplicationError]:
    """`sale_report` for texts that arrived together: each its report, or why it was refused.

    The lot is written in a few statements. A serial named twice in the batch waits for a
    second round, where it meets the first as a held serial; a race lost to another process
    sends every report through alone, so only the loser is refused.
    """
    results: dict[int, SaleReport | ApplicationError] = {}
    checked = _check_requests(requests, results)
    now, later = _split_repeated_serials(checked)
    if now:
        try:
            with transaction.atomic():
                results.update(_record(now, channel, results))
        except IntegrityError:
            if len(now) > 1:
                later.update(now)
            else:
                [(n, item)] = now.items()
                held = sales_holding_serials(item.serials)
                raced = next((held[serial] for serial in item.serials if serial in held), None)
                if raced is None:
                    raise
                results[n] = _serial_taken(raced)
    for n, item in later.items():
        results[n] = sale_reports([item.request], channel=channel)[0]
    return [results[n] for n in range(len(requests))]


def _check_requests(requests: Sequence[SaleRequest], refused: dict) -> dict[int, _Checked]:
    """Every check that needs no write, for the lot in two queries; refusals go to `refused`."""
    products = products_by_code(request.product_code for request in requests)
    held = sales_holding_serials(s.strip().upper() for request in requests for s in request.serials)
    checked = {}
    for n, request in enumerate(requests):
        with _speaking(request.language):
            try:
                checked[n] = _check_request(request, products, held)
            except ApplicationError as error:
                refused[n] = error
    return checked


def _check_request(request: SaleRequest, products: dict[str, Product], held: dict[str, Sale]) -> _Checked:
    if request.rep.role != Role.REP:
        raise Forbidden(_("Only reps report sales."), code="forbidden_role")
    product = products.get(request.product_code.upper())
    if product is None:
        raise unknown_product(request.product_code)
    serials = [s.strip().upper() for s in request.serials]
    quantity = request.quantity or len(serials) or 1
    _check_units(product, quantity, serials, held)
    return _Checked(request, product, quantity, serials)


def _speaking(language: str | None) -> AbstractContextManager:
    return translation.override(language) if language else nullcontext()


def _split_repeated_serials(checked: dict[int, _Checked]) -> tuple[dict[int, _Checked], dict[int, _Checked]]:
    now, later, taken = {}, {}, set()
    for n, item in checked.items():
        if taken.isdisjoint(item.serials):
            now[n] = item
            taken.update(item.serials)
        else:
            later[n] = item
    return now, later


def _record(items: dict[int, _Checked], channel: str, refused: dict) -> dict[int, SaleReport]:
    """Write the lot: customers first (a hint may be refused), then one insert per table."""
    customers, conflicts = {}, set()
    for n, item in list(items.items()):
        request = item.request
        if request.customer is not None or not request.customer_hint:
            customers[n] = request.customer
            continue
        with _speaking(request.language), acting_as(request.rep):
            try:
                customers[n], opened = _resolve_customer(request.rep, request.customer_hint, channel)
            except ApplicationError as error:
                refused[n] = error
                del items[n]
                continue
        if opened:
            conflicts.add(n)
    if not items:
        return {}
    reports = FieldReport.objects.bulk_create([
        FieldReport(kind=FieldReport.Kind.SALE, reporter=item.request.rep, channel=channel) for item in items.values()
    ])
    now = timezone.now()
    sales_of = {n: _units(item, customers[n], report.reference, channel, now) for (n, item), report
                in zip(items.items(), reports, strict=True)}
    sales = [sale for units in sales_of.values() for sale in units]
    bulk_create_with_door_history(sales, Sale, users=[sale.rep for sale in sales])
    rewards = _rewards(sales)
    bulk_create_with_door_history(rewards, Reward, users=[reward.rep for reward in rewards])
    # Managers' and executives' dashboards show them live once committed (robust: never fails the sales).
    # A lambda, not a partial: Django names a failing robust callback by its __qualname__.
    transaction.on_commit(lambda: dashboard_sales_recorded(reports=list(sales_of.values())), robust=True)
    return {
        n: SaleReport(
            units[0].reference, items[n].product, units, sum((s.reward.amount for s in units if hasattr(s, "reward")),
                                                            Decimal(0)),
            customers[n], n in conflicts,
        )
        for n, units in sales_of.items()
    }


def _units(item: _Checked, customer: Customer | None, reference: str, channel: str, now: datetime) -> list[Sale]:
    request = item.request
    return [
        Sale(
            **({"id": request.ids[unit]} if request.ids else {}),
            reference=reference, product=item.product, rep=request.rep, customer=customer,
            serial=item.serials[unit] if item.serials else None, unit_price=item.product.price, channel=channel,
            sold_at=request.sold_at or now,
        )
        for unit in range(item.quantity)
    ]


def _rewards(sales: list[Sale]) -> list[Reward]:
    """Each sale's reward under the rule of its product on its day, if there is one."""
    rules = {}
    rewards = []
    for sale in sales:
        key = (sale.product_id, timezone.localdate(sale.sold_at))
        if key not in rules:
            rules[key] = reward_rule_for(sale.product, key[1])
        rule = rules[key]
        if rule is not None:
            sale.reward = Reward(sale=sale, rep=sale.rep, rule=rule, amount=rule.amount_per_unit)
            rewards.append(sale.reward)
    return rewards


def _check_units(product: Product, quantity: int, serials: list[str], held: dict[str, Sale]) -> None:
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
        _check_serial(product, serial, held)


def _check_serial(product: Product, serial: str, held_serials: dict[str, Sale]) -> None:
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
    held = held_serials.get(serial)
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


@dataclass(frozen=True)
class ShipmentRequest:
    """One shipment for `shipments_record`: what `shipment_record` takes."""

    actor: Any
    order_number: str
    carrier: str = ""
    tracking: str = ""
    eta: date | None = None
    id: Any = None
    language: str | None = None  # the sender's, for a refusal: a batch mixes languages


def shipment_record(
    *, actor: Any, order_number: str, carrier: str = "", tracking: str = "", eta: date | None = None,
    channel: str, id: Any = None,
) -> Shipment:
    """Record a shipment and text the order's rep at once, asking them to tell the customer."""
    result = shipments_record([ShipmentRequest(actor, order_number, carrier, tracking, eta, id)], channel=channel)[0]
    if isinstance(result, ApplicationError):
        raise result
    return result


def shipments_record(requests: Sequence[ShipmentRequest], *, channel: str) -> list[Shipment | ApplicationError]:
    """`shipment_record` for texts that arrived together: each its shipment, or why it was refused."""
    results: dict[int, Shipment | ApplicationError] = {}
    with transaction.atomic():  # the orders stay locked until their shipments are written
        orders = _orders_to_ship(requests)
        accepted = {}
        for n, request in enumerate(requests):
            with _speaking(request.language):
                try:
                    accepted[n] = _order_to_ship(request, orders)
                except ApplicationError as error:
                    results[n] = error
        if accepted:
            results.update(_ship(requests, accepted, channel))
    return [results[n] for n in range(len(requests))]


def _orders_to_ship(requests: Sequence[ShipmentRequest]) -> dict[str, Order]:
    """The orders the requests name, locked, by every form of their number. Only the orders are
    locked: their reps' and customers' rows, read with them, stay free for the rest of the batch
    and for other processes (a sale's reference to its rep waits for no shipment)."""
    forms = {form for request in requests for form in order_number_forms(request.order_number)}
    orders = Order.objects.select_for_update(of=("self",)).select_related("customer", "rep").filter(number__in=forms)
    return {order.number: order for order in orders.order_by("pk")}


def _order_to_ship(request: ShipmentRequest, orders: dict[str, Order]) -> Order:
    if request.actor.role not in (Role.LOGISTICS, Role.MANAGER, Role.EXECUTIVE):
        raise Forbidden(_("Only logistics and managers record shipments."), code="forbidden_role")
    seen = owners_in_sight(Order, request.actor)
    order = next((orders[form] for form in sorted(order_number_forms(request.order_number)) if form in orders), None)
    if order is None or (seen is not None and order.rep_id not in seen):
        raise unknown_order(request.order_number)
    if order.status == OrderStatus.CANCELLED:
        raise ApplicationError(_("Order %(number)s is cancelled.") % {"number": order.number}, code="order_cancelled")
    return order


def _ship(requests: Sequence[ShipmentRequest], accepted: dict[int, Order], channel: str) -> dict[int, Shipment]:
    now = timezone.now()
    reports = FieldReport.objects.bulk_create([
        FieldReport(kind=FieldReport.Kind.SHIPMENT, reporter=requests[n].actor, channel=channel) for n in accepted
    ])
    shipments = {
        n: Shipment(
            **({"id": requests[n].id} if requests[n].id else {}), order=order, carrier=requests[n].carrier or "",
            tracking=requests[n].tracking or "", eta=requests[n].eta, shipped_at=now, reported_by=requests[n].actor,
            channel=channel, rep_notified_at=now, reference=report.reference,
        )
        for (n, order), report in zip(accepted.items(), reports, strict=True)
    }
    bulk_create_with_door_history(list(shipments.values()), Shipment, users=[requests[n].actor for n in shipments])
    # Two texts for one order: shipped once, by the first. The order's history names who shipped
    # it, as the shipment's does.
    shipper_of: dict[Order, Any] = {}  # a model instance hashes by its primary key
    for n, order in accepted.items():
        if order.status == OrderStatus.CONFIRMED:
            shipper_of.setdefault(order, requests[n].actor)
    update_with_door_history(list(shipper_of), Order, users=list(shipper_of.values()), status=OrderStatus.SHIPPED)
    notify_many([_shipment_notice(shipment) for shipment in shipments.values()])
    return shipments


def _shipment_notice(shipment: Shipment) -> Notice:
    """The rep's text: tell the customer to prepare receiving."""
    order, rep = shipment.order, shipment.order.rep
    with in_language_of(rep):
        parts = {
            "number": order.number, "customer": order.customer.name,
            # With its leading space, so a shipment without carrier leaves no gap before the comma.
            "how": "".join(f" {p}" for p in (shipment.carrier, shipment.tracking) if p),
            "eta": shipment.eta.strftime("%m-%d") if shipment.eta else _("soon"),
        }
        text = _(
            "%(number)s shipped%(how)s, ETA %(eta)s. Please tell %(customer)s to prepare receiving, "
            "then reply OK %(number)s"
        ) % parts
    return Notice(
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
