"""SHIP <order> [carrier] [tracking] [ETA <date>]: the order's rep is texted at once."""

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from audit.context import Door
from backend.core.errors import ApplicationError
from backend.sales.models import Shipment
from backend.sales.services import ShipmentRequest, shipments_record
from sms_gateway.commands.outcome import Outcome, refusal, reply_language
from sms_gateway.language import Ship


def handle_many(texts: list[tuple[Ship, Any]]) -> list[Outcome]:
    """SHIP texts from different senders, recorded together; each gets its own reply."""
    requests = [
        ShipmentRequest(actor=user, order_number=command.order, carrier=command.carrier or "",
                        tracking=command.tracking or "", eta=command.eta,
                        language=reply_language(command, user))
        for command, user in texts
    ]
    outcomes = []
    for request, result in zip(requests, shipments_record(requests, channel=Door.SMS), strict=True):
        with translation.override(request.language):
            outcomes.append(refusal(result) if isinstance(result, ApplicationError) else _shipped(result))
    return outcomes


def _shipped(shipment: Shipment) -> Outcome:
    rep = shipment.order.rep
    reply = _("%(reference)s: %(number)s shipped. %(rep)s (%(phone)s) was texted to tell the customer.") % {
        "reference": shipment.reference, "number": shipment.order.number, "rep": rep, "phone": rep.phone or "-",
    }
    return Outcome(reply=reply, created=shipment, reference=shipment.reference)
