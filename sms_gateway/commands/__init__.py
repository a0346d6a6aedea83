"""One small handler per command: command → domain service → reply. The table below is the
whole dispatch; handlers run inside the sender's language and the SMS door of `audit`."""

from collections.abc import Callable
from typing import Any

from sms_gateway.commands import help, ok, recv, ship, sold, status, stop, undo, visit
from sms_gateway.commands.outcome import Outcome, refusal, reply_language
from sms_gateway.language import Help, Ok, Recv, Ship, Sold, Start, Status, Stop, Undo, Visit

# SOLD, SHIP and STATUS are in BATCH_HANDLERS only: a text alone is a batch of one.
HANDLERS: dict[type, Callable[[Any, Any], Outcome]] = {
    Ok: ok.handle,
    Recv: recv.handle,
    Visit: visit.handle,
    Undo: undo.handle,
    Help: help.handle,
}
# Commands many senders send at once, handled together when texts arrive together.
BATCH_HANDLERS: dict[type, Callable[[list[tuple[Any, Any]]], list[Outcome]]] = {
    Sold: sold.handle_many,
    Ship: ship.handle_many,
    Status: status.handle_many,
}
# STOP and START concern a number, registered or not: they need no user.
NUMBER_HANDLERS: dict[type, Callable[[Any, str], Outcome]] = {Stop: stop.handle_stop, Start: stop.handle_start}

__all__ = ["BATCH_HANDLERS", "HANDLERS", "NUMBER_HANDLERS", "Outcome", "refusal", "reply_language"]
