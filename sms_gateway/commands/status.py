"""STATUS: today's and this month's sales and rewards, and shipments waiting for OK."""

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from backend.sales.selectors import Tally, tallies
from sms_gateway.commands.format import money
from sms_gateway.commands.outcome import Outcome, reply_language
from sms_gateway.language import Status


def handle_many(texts: list[tuple[Status, Any]]) -> list[Outcome]:
    """STATUS texts from different people, read together."""
    figures = tallies([user for _, user in texts])
    outcomes = []
    for (command, user), tally in zip(texts, figures, strict=True):
        with translation.override(reply_language(command, user)):
            outcomes.append(_status(tally))
    return outcomes


def _status(t: Tally) -> Outcome:
    reply = _(
        "Today: %(today)s sold, reward %(today_reward)s. This month: %(month)s sold, reward %(month_reward)s."
    ) % {
        "today": t.sales_today, "today_reward": money(t.rewards_today),
        "month": t.sales_month, "month_reward": money(t.rewards_month),
    }
    if t.awaiting_ok:
        reply += " " + _("Waiting for OK: %(orders)s.") % {"orders": ", ".join(t.awaiting_ok)}
    return Outcome(reply=reply)
