"""HELP: the command list in the sender's language."""

from typing import Any

from sms_gateway.commands.outcome import Outcome
from sms_gateway.language import Help, help_text


def handle(command: Help, user: Any) -> Outcome:
    return Outcome(reply=help_text())
