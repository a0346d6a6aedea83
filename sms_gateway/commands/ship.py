"""SHIP <order> [carrier] [tracking] [ETA <date>]: the order's rep is texted at once."""

from typing import Any

from django.utils.translation import gettext as _

from audit.context import Door
from backend.sales.services import shipment_record
from sms_gateway.commands.outcome import Outcome
from sms_gateway.language import Ship


def handle(command: Ship, user: Any) -> Outcome:
    shipment = shipment_record(
        actor=user, order_number=command.order, carrier=command.carrier or "", tracking=command.tracking or "",
        eta=command.eta, channel=Door.SMS,
    )
    rep = shipment.order.rep
    reply = _("%(reference)s: %(number)s shipped. %(rep)s (%(phone)s) was texted to tell the customer.") % {
        "reference": shipment.reference, "number": shipment.order.number, "rep": rep, "phone": rep.phone or "-",
    }
    return Outcome(reply=reply, created=shipment, reference=shipment.reference)
