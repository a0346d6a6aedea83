"""RECV <order>: the goods arrived; order-to-receipt time is known."""

from typing import Any

from django.utils.translation import gettext as _

from backend.sales.services import shipment_receive
from sms_gateway.commands.format import duration
from sms_gateway.commands.outcome import Outcome
from sms_gateway.language import Recv


def handle(command: Recv, user: Any) -> Outcome:
    shipment = shipment_receive(user=user, order_number=command.order)
    order = shipment.order
    reply = _("%(number)s received. Order to receipt: %(span)s.") % {
        "number": order.number, "span": duration(shipment.received_at - order.ordered_at),
    }
    return Outcome(reply=reply, created=shipment, reference=shipment.reference)
