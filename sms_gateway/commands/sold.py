"""SOLD <product> [qty] [serial …] [@customer]: one sale per unit, the reward, today's total."""

from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from audit.context import Door
from backend.core.errors import ApplicationError
from backend.sales.selectors import day_totals
from backend.sales.services import SaleReport, SaleRequest, sale_reports
from sms_gateway.commands.format import money
from sms_gateway.commands.outcome import Outcome, refusal, reply_language
from sms_gateway.language import Sold


def handle_many(texts: list[tuple[Sold, Any]]) -> list[Outcome]:
    """SOLD texts from different reps, recorded together; each gets its own reply."""
    requests = [
        SaleRequest(rep=user, product_code=command.product, quantity=command.qty, serials=tuple(command.serials),
                    customer_hint=command.customer, language=reply_language(command, user))
        for command, user in texts
    ]
    results = sale_reports(requests, channel=Door.SMS)
    recorded = [user for (_, user), result in zip(texts, results, strict=True) if isinstance(result, SaleReport)]
    today = dict(zip((user.pk for user in recorded), day_totals(recorded), strict=True))
    outcomes = []
    for request, result in zip(requests, results, strict=True):
        with translation.override(request.language):
            if isinstance(result, ApplicationError):
                outcomes.append(refusal(result))
            else:
                outcomes.append(_recorded(result, today[request.rep.pk]))
    return outcomes


def _recorded(report: SaleReport, today: tuple[int, Decimal]) -> Outcome:
    sold_today, rewards_today = today
    parts = {
        "reference": report.reference, "qty": len(report.sales), "code": report.product.code,
        "unit": money(report.reward_total / len(report.sales)), "reward": money(report.reward_total),
        "count": sold_today, "total": money(rewards_today),
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
