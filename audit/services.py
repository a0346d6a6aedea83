"""Handover: customers move to other reps with their open work, in one transaction.

The same function serves the admin, the API and the `handover` command; each door sets the
actor (`audit.context.acting`), so every history row it writes says who did it and how.
Past sales, activities and delivered orders stay credited to the rep who made them.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.context import current_actor
from audit.models import Handover, HandoverItem
from audit.selectors import customer_briefing
from backend.core.errors import ApplicationError, Forbidden, NotFound
from backend.core.sync import stamp_for, tombstone_record
from backend.crm.models import Contact, Customer, Opportunity, OpportunityStatus
from backend.notifications.services import in_language_of, notify
from backend.org.models import Role, User
from backend.org.scoping import can_manage, sees_everything, viewer_ids
from backend.sales.models import Order, OrderStatus, Shipment

OPEN_ORDER_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.SHIPPED)
# simple-history keeps a change reason of at most 100 characters.
CHANGE_REASON_LENGTH = 100
NAMES_IN_NOTICE = 3


def change_reason(kind: str, text: str) -> str:
    """The note on every history row an ownership operation writes, e.g. `handover: Zhang left`."""
    reason = f"{kind}: {text}".strip()
    if len(reason) <= CHANGE_REASON_LENGTH:
        return reason
    return reason[: CHANGE_REASON_LENGTH - 1] + "…"


def handover_create(
    *, by: Any, reason: str, to: Sequence[User], customers: Iterable[Customer] | None = None,
    from_user: User | None = None,
) -> Handover:
    """Hand customers over: the given ones, or every customer of `from_user`, spread in turn
    across the reps in `to`. Open deals, open orders and their unacknowledged shipments move
    with each customer; each new owner is notified with a briefing per customer."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("A handover needs a reason."), code="reason_required")
    if not (sees_everything(by) or by.role == Role.MANAGER):
        raise Forbidden(_("Only managers hand customers over."), code="forbidden_role")
    targets = _targets(by, to)
    with transaction.atomic():
        chosen = _customers_to_move(by, customers, from_user)
        assignments = _spread(chosen, targets)
        handover = Handover.objects.create(by=by, door=current_actor().door, reason=reason)
        note = change_reason("handover", reason)
        items = []
        for customer, target in assignments:
            previous = customer.owner
            moved = customer_move(customer=customer, to_user=target, note=note)
            items.append(HandoverItem(
                handover=handover, customer=customer, from_user=previous, to_user=target, moved=moved,
            ))
        HandoverItem.objects.bulk_create(items)
        _brief_new_owners(handover, items)
    return handover


def customer_move(*, customer: Customer, to_user: User, note: str) -> dict:
    """Give `customer` (locked by the caller) to `to_user` with the previous owner's open work.
    Returns what moved. The previous owner loses sight of all of it at once (scoping is live),
    and their phone drops it on the next sync (tombstones)."""
    viewers = viewer_ids(customer)
    work = open_work_move(customer=customer, from_user=customer.owner, to_user=to_user, note=note)
    customer.owner = to_user
    customer.version += 1
    customer._change_reason = note
    customer.save()
    contacts = list(customer.contacts.all())
    # Rows that came into the new owner's sight without changing: their next sync must bring them.
    for unchanged in (Contact.objects.filter(customer=customer), Shipment.objects.filter(order__in=work.orders)):
        unchanged.update(sync_stamp=stamp_for(unchanged.db))
    tombstone_record(
        instances=[customer, *contacts, *work.opportunities, *work.orders, *work.shipments],
        user_ids=viewers - viewer_ids(customer),
    )
    return work.summary()


@dataclass(frozen=True)
class MovedWork:
    opportunities: list[Opportunity]
    orders: list[Order]
    shipments: list[Shipment]  # every shipment of the moved orders

    def summary(self) -> dict:
        """What moved, for the handover record: deals, orders, and shipments not yet acknowledged."""
        return {
            "opportunities": [str(deal.pk) for deal in self.opportunities],
            "orders": [order.number for order in self.orders],
            "shipments": [str(s.pk) for s in self.shipments if s.customer_told_at is None and s.received_at is None],
        }


def open_work_move(*, customer: Customer, from_user: User, to_user: User, note: str) -> MovedWork:
    """Move `from_user`'s open deals and open orders on `customer` to `to_user`, one save (and one
    history row) each. Shipments follow their order (they are seen through it)."""
    deals = list(Opportunity.objects.select_for_update().filter(
        customer=customer, owner=from_user, status=OpportunityStatus.OPEN,
    ))
    for deal in deals:
        deal.owner, deal.version, deal._change_reason = to_user, deal.version + 1, note
        deal.save()
    orders = list(
        Order.objects.select_for_update().filter(customer=customer, rep=from_user, status__in=OPEN_ORDER_STATUSES)
    )
    for order in orders:
        order.rep, order._change_reason = to_user, note
        order.save()
    return MovedWork(deals, orders, list(Shipment.objects.filter(order__in=orders).order_by("shipped_at")))


def _targets(by: Any, to: Sequence[User]) -> list[User]:
    targets = list({user.pk: user for user in to}.values())
    if not targets:
        raise ApplicationError(_("Name at least one rep to receive the customers."), code="recipient_required")
    for user in targets:
        if user.role != Role.REP or not user.is_active:
            raise ApplicationError(
                _("%(user)s is not an active rep and cannot own customers.") % {"user": user}, code="not_a_rep"
            )
        if not can_manage(by, user):
            raise Forbidden(_("You may hand customers only to reps in your team."), code="forbidden_recipient")
    return targets


def _customers_to_move(by: Any, customers: Iterable[Customer] | None, from_user: User | None) -> list[Customer]:
    if customers is None and from_user is None:
        raise ApplicationError(_("Choose the customers, or the rep whose customers move."), code="nothing_chosen")
    queryset = Customer.objects.select_for_update(of=("self",)).filter(merged_into__isnull=True)
    if from_user is not None:
        if not can_manage(by, from_user):
            raise NotFound(_("Rep not found."), code="not_found")
        queryset = queryset.filter(owner=from_user)
    wanted = None
    if customers is not None:
        wanted = {customer.pk for customer in customers}
        queryset = queryset.filter(pk__in=wanted)
    found = list(queryset.select_related("owner").order_by("name", "pk"))
    # Out of the caller's team looks exactly like missing.
    if (wanted is not None and len(found) != len(wanted)) or not all(can_manage(by, c.owner) for c in found):
        raise NotFound(_("Customer not found."), code="not_found")
    if not found:
        raise ApplicationError(_("There is no customer to hand over."), code="nothing_to_hand_over")
    return found


def _spread(customers: list[Customer], targets: list[User]) -> list[tuple[Customer, User]]:
    """Customers dealt in turn to the targets, never to the rep who already owns them."""
    assignments = []
    for turn, customer in enumerate(customers):
        candidates = [user for user in targets if user.pk != customer.owner_id]
        if not candidates:
            raise ApplicationError(
                _("%(customer)s already belongs to %(rep)s.") % {"customer": customer, "rep": customer.owner},
                code="already_owner",
            )
        assignments.append((customer, candidates[turn % len(candidates)]))
    return assignments


def _brief_new_owners(handover: Handover, items: list[HandoverItem]) -> None:
    per_owner: dict[User, list[HandoverItem]] = defaultdict(list)
    for item in items:
        per_owner[item.to_user].append(item)
    for owner, received in per_owner.items():
        names = [item.customer.name for item in received]
        shown = ", ".join(names[:NAMES_IN_NOTICE]) + ("…" if len(names) > NAMES_IN_NOTICE else "")
        with in_language_of(owner):
            text = ngettext(
                "%(by)s handed %(count)d customer over to you: %(names)s. Reason: %(reason)s",
                "%(by)s handed %(count)d customers over to you: %(names)s. Reason: %(reason)s",
                len(names),
            ) % {"by": handover.by, "count": len(names), "names": shown, "reason": handover.reason[:80]}
            briefings = [customer_briefing(item.customer) for item in received]  # labels in their language
        notify(
            recipient=owner, kind="handover", text=text,
            data={"handover_id": str(handover.pk), "customers": briefings},
        )
