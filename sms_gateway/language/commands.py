"""The typed result of reading one SMS: a command, or a ParseError that says what was wrong.

Every class carries `lang`: 'zh-hans' when a Chinese keyword was used, 'en' for an English one,
None when the keyword is neutral ('?') or none was recognised. The reply follows it, falling
back to the sender's preferred language when it is None.
"""

from dataclasses import dataclass, field
from datetime import date

Lang = str | None

# Canonical keywords, in the order the help text lists them.
COMMANDS = ("SOLD", "SHIP", "OK", "RECV", "VISIT", "STATUS", "UNDO", "HELP", "STOP", "START")


@dataclass(frozen=True)
class Sold:
    product: str  # upper-cased as typed; the handler resolves it against known codes
    qty: int  # 1..999, already resolved (default 1, or the number of serials)
    serials: tuple[str, ...]  # upper-cased as typed; VIN checks are the handler's (vin.py)
    customer: str | None  # everything after '@', whitespace collapsed
    lang: Lang


@dataclass(frozen=True)
class Ship:
    order: str  # 'PO-1001' for letters+digits; other shapes upper-cased as typed
    carrier: str | None  # as typed (may contain spaces: 'China Post')
    tracking: str | None  # upper-cased
    eta: date | None
    lang: Lang


@dataclass(frozen=True)
class Ok:
    order: str
    lang: Lang


@dataclass(frozen=True)
class Recv:
    order: str
    lang: Lang


@dataclass(frozen=True)
class Visit:
    customer: str  # the first argument, a leading '@' dropped
    note: str  # the rest of the text, whitespace collapsed
    lang: Lang


@dataclass(frozen=True)
class Status:
    lang: Lang


@dataclass(frozen=True)
class Undo:
    reference: str | None  # e.g. 'S4821'; None means the sender's last report
    lang: Lang


@dataclass(frozen=True)
class Help:
    lang: Lang


@dataclass(frozen=True)
class Stop:
    lang: Lang


@dataclass(frozen=True)
class Start:
    lang: Lang


# Error codes the parser returns, with the params each one carries (all values are str or int).
ERROR_CODES = {
    "empty": (),  # nothing but whitespace, punctuation or emoji
    "too_long": ("length", "limit"),  # over MAX_LENGTH characters
    "unknown_command": ("word",),  # `command` is set when the word looked like a keyword
    "missing_argument": ("argument",),  # one of MISSING_ARGUMENTS
    "bad_quantity": ("value",),  # not a whole number 1..999
    "qty_serial_mismatch": ("qty", "serials"),  # both given and the counts differ
    "duplicate_serial": ("serial",),  # the same serial twice in one message
    "bad_serial": ("serial",),  # a token that cannot be a serial (e.g. Chinese text)
    "bad_order": ("value",),  # not an order number
    "bad_eta": ("value", "reason"),  # reason: 'format' | 'past' | 'range'
    "bad_reference": ("value",),  # UNDO argument that is not like 'S4821'
    "internal": (),  # a parser bug caught by the safety net; never expected
}
# Not returned by the parser, but rendered by messages.error_text for the handler's use.
MISSING_ARGUMENTS = ("product", "order", "customer", "note", "date")


@dataclass(frozen=True)
class ParseError:
    code: str  # one of ERROR_CODES
    command: str | None  # canonical keyword of the command it looked like, or None
    lang: Lang
    # Details for the reply. Excluded from the hash (a dict is unhashable) but compared.
    params: dict = field(default_factory=dict, hash=False)


Command = Sold | Ship | Ok | Recv | Visit | Status | Undo | Help | Stop | Start
