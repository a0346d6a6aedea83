"""STOP / START: texts that are not replies (digests, alerts) stop or resume, per number."""

from django.utils.translation import gettext as _

from sms_gateway.commands.outcome import Outcome
from sms_gateway.language import Start, Stop
from sms_gateway.optouts import optout_set


def handle_stop(command: Stop, phone: str) -> Outcome:
    optout = optout_set(phone=phone, active=True, source="keyword")
    return Outcome(reply=_("You will get no more alerts. Replies to your texts still come. Text START to resume."),
                   created=optout)


def handle_start(command: Start, phone: str) -> Outcome:
    optout = optout_set(phone=phone, active=False, source="keyword")
    return Outcome(reply=_("Alerts resumed. Text STOP to stop them."), created=optout)
