"""UNDO [reference]: void the sender's last (or named) report, if under 30 minutes old."""

from typing import Any

from django.utils.translation import gettext as _

from backend.core.models import FieldReport
from backend.sales.services import report_undo
from sms_gateway.commands.outcome import Outcome
from sms_gateway.language import Undo


def handle(command: Undo, user: Any) -> Outcome:
    report = report_undo(user=user, reference=command.reference)
    if report.kind == FieldReport.Kind.SALE:
        reply = _("%(reference)s voided; its reward is cancelled.") % {"reference": report.reference}
    else:
        reply = _("%(reference)s voided.") % {"reference": report.reference}
    return Outcome(reply=reply, created=report, reference=report.reference)
