"""VISIT <customer> <note…>: an activity on one of the rep's customers."""

from typing import Any

from django.utils.translation import gettext as _

from audit.context import Door
from backend.crm.selectors import customer_for_hint
from backend.crm.services import activity_log
from sms_gateway.commands.outcome import Outcome
from sms_gateway.language import Visit


def handle(command: Visit, user: Any) -> Outcome:
    customer = customer_for_hint(user=user, hint=command.customer)
    activity = activity_log(rep=user, customer=customer, note=command.note, channel=Door.SMS)
    reply = _("%(reference)s: visit to %(customer)s logged.") % {
        "reference": activity.reference, "customer": customer.name,
    }
    return Outcome(reply=reply, created=activity, reference=activity.reference)
