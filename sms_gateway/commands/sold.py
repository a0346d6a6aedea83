"""SOLD <product> [qty] [serial …] [@customer]: one sale per unit, the reward, today's total."""

from typing import Any

from django.utils.translation import gettext as _

from audit.context import Door
from backend.sales.selectors import tally
from backend.sales.services import sale_report
from sms_gateway.commands.format import money
from sms_gateway.commands.outcome import Outcome
from sms_gateway.language import Sold


def handle(command: Sold, user: Any) -> Outcome:
    report = sale_report(
        rep=user, product_code=command.product, quantity=command.qty, serials=list(command.serials),
        customer_hint=command.customer, channel=Door.SMS,
    )
    today = tally(user=user)
    parts = {
        "reference": report.reference, "qty": len(report.sales), "code": report.product.code,
        "unit": money(report.reward_total / len(report.sales)), "reward": money(report.reward_total),
        "count": today.sales_today, "total": money(today.rewards_today),
    }
    if len(report.sales) == 1:
        reply = _("%(reference)s: 1 %(code)s recorded, reward %(reward)s (pending approval). "
                  "Today: %(count)s sold, reward %(total)s.") % parts
    else:
        reply = _("%(reference)s: %(qty)s %(code)s recorded, reward %(qty)s x %(unit)s = %(reward)s "
                  "(pending approval). Today: %(count)s sold, reward %(total)s.") % parts
    if report.conflict_opened:
        reply += " " + _("The customer is another rep's: your manager will sort it out.")
    return Outcome(reply=reply, created=report.sales[0], reference=report.reference)
