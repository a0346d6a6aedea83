"""OK <order>: the rep has told the customer to prepare receiving."""

from typing import Any

from django.utils.translation import gettext as _

from backend.sales.services import shipment_acknowledge
from sms_gateway.commands.format import clock
from sms_gateway.commands.outcome import Outcome
from sms_gateway.language import Ok


def handle(command: Ok, user: Any) -> Outcome:
    shipment = shipment_acknowledge(rep=user, order_number=command.order)
    reply = _("%(number)s: customer told at %(time)s. Thank you.") % {
        "number": shipment.order.number, "time": clock(shipment.customer_told_at),
    }
    return Outcome(reply=reply, created=shipment, reference=shipment.reference)
