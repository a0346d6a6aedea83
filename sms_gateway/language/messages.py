"""What the sender reads when a text could not be used: the problem, then the right form.

Everything goes through gettext, so the caller activates the reply language first
(`translation.override(error.lang or user_language)`). Replies must fit two SMS segments:
306 GSM-7 septets, or 134 UCS-2 units as soon as one character (Chinese, an emoji) is not
GSM-7. English texts therefore write '...' rather than '…', which is not GSM-7.
"""

import logging
import re

from django.utils.translation import gettext

from sms_gateway.segments import capacity, count, fit

from .commands import COMMANDS, ParseError

logger = logging.getLogger(__name__)

# How much of the sender's own text is quoted back: less when the reply would not fit.
_CLIPS = (20, 8, 0)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_SIMPLE_COMMANDS = ("STATUS", "UNDO", "HELP", "STOP", "START")
_FULL_STOPS = ("。", "！", "？", "）", "”", "：")


class _Values(dict):
    """Formatting values where a missing key reads as '' instead of raising."""

    def __missing__(self, key: str) -> str:
        return ""


def _fmt(template: str, **values: object) -> str:
    try:
        return template % _Values(values)
    except (TypeError, ValueError, KeyError):
        # A translation with a broken placeholder must not cost the sender the reply.
        return _PLACEHOLDER.sub(lambda m: str(values.get(m[1], "")), template)


def _quote(value: object, clip: int) -> str:
    """The sender's text, shown back: one line, at most `clip` characters."""
    text = " ".join("".join(c if c.isprintable() else " " for c in str(value)).split())
    return text if len(text) <= clip else text[:clip] + "..."


def _fits(text: str) -> bool:
    measured = count(text)
    return measured.units <= capacity(measured.encoding, 2)


# ---------------------------------------------------------------------------- usage and help


def _usage_lines() -> dict[str, str]:
    # Built per call: gettext must run under the language active now, not at import.
    return {
        "SOLD": gettext("SOLD <product> [qty] [serial...] [@customer]"),
        "SHIP": gettext("SHIP <order> [carrier] [tracking] [ETA <date>]"),
        "OK": gettext("OK <order>"),
        "RECV": gettext("RECV <order>"),
        "VISIT": gettext("VISIT <customer> <note>"),
        "STATUS": gettext("STATUS"),
        "UNDO": gettext("UNDO [reference]"),
        "HELP": gettext("HELP"),
        "STOP": gettext("STOP"),
        "START": gettext("START"),
    }


def command_list() -> str:
    """The one-line list of commands, for texts that matched no command at all."""
    return gettext(
        "Commands: SOLD, SHIP, OK, RECV, VISIT, STATUS, UNDO, HELP, STOP, START. "
        "Send HELP for details."
    )


def usage(command: str | None) -> str:
    """The usage line of a canonical command ('SOLD' -> 'SOLD <product> [qty] ...'); the
    command list for anything else."""
    key = command.upper() if isinstance(command, str) else ""
    return _usage_lines().get(key) or command_list()


def help_text() -> str:
    """All commands with their arguments, one per line; two SMS segments in either language."""
    lines = [gettext("SMS commands:")]
    lines += [usage(command) for command in COMMANDS if command not in _SIMPLE_COMMANDS]
    lines.append(" / ".join(usage(command) for command in _SIMPLE_COMMANDS))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- errors


def error_text(error: ParseError) -> str:
    """What was wrong, then the right form: the usage line of the command the text looked
    like, or the command list. Never raises; fits two SMS segments."""
    try:
        text = ""
        for clip in _CLIPS:
            text = _render(error, clip)
            if _fits(text):
                return text
        return fit(text)  # only if a translation is far too long
    except Exception:
        logger.exception("Could not render SMS parse error %r", error)
        return gettext("Sorry, your message could not be read. Send HELP for the command list.")


def _render(error: ParseError, clip: int) -> str:
    command = error.command if error.command in COMMANDS else None
    if error.code == "unknown_command" and command:
        hint = _fmt(gettext("Did you mean: %(usage)s"), usage=usage(command))
    elif command:
        hint = _fmt(gettext("Use: %(usage)s"), usage=usage(command))
    else:
        hint = command_list()
    problem = _problem(error, clip)
    # Chinese sentences end in full-width punctuation and need no space after it.
    separator = "" if problem.endswith(_FULL_STOPS) else " "
    return f"{problem}{separator}{hint}"


def _problem(error: ParseError, clip: int) -> str:
    params = error.params if isinstance(error.params, dict) else {}
    shown = {str(key): _quote(value, clip) for key, value in params.items()}
    code = error.code
    if code == "missing_argument":
        return _missing(str(params.get("argument", "")))
    if code == "bad_eta":
        return _bad_eta(str(params.get("reason", "")), shown)
    render = _PROBLEMS.get(code)
    if render is None:
        return gettext("Your message could not be read.")
    return render(shown)


_PROBLEMS = {
    "empty": lambda p: gettext("Your message was empty."),
    "too_long": lambda p: _fmt(
        gettext("Your message is too long (%(length)s characters, limit %(limit)s)."), **p
    ),
    "unknown_command": lambda p: _fmt(gettext('Unknown command "%(word)s".'), **p),
    "bad_quantity": lambda p: _fmt(
        gettext('Quantity "%(value)s" is not a whole number from 1 to 999.'), **p
    ),
    "qty_serial_mismatch": lambda p: _fmt(
        gettext("Quantity %(qty)s does not match the number of serials (%(serials)s)."), **p
    ),
    "duplicate_serial": lambda p: _fmt(gettext("Serial number %(serial)s is listed twice."), **p),
    "bad_serial": lambda p: _fmt(
        gettext('"%(serial)s" is not a serial number. Put the customer after @.'), **p
    ),
    "bad_order": lambda p: _fmt(gettext('"%(value)s" is not an order number like PO-1001.'), **p),
    "bad_reference": lambda p: _fmt(gettext('"%(value)s" is not a reference like S4821.'), **p),
    "internal": lambda p: gettext("Sorry, your message could not be read."),
}


def _missing(argument: str) -> str:
    texts = {
        "product": gettext("The product code is missing."),
        "order": gettext("The order number is missing."),
        "customer": gettext("The customer is missing."),
        "note": gettext("The visit note is missing."),
        "date": gettext("The date after ETA is missing."),
    }
    return texts.get(argument) or gettext("Something is missing.")


def _bad_eta(reason: str, shown: dict[str, str]) -> str:
    if reason == "past":
        return _fmt(gettext("ETA %(value)s is in the past."), **shown)
    if reason == "range":
        return _fmt(gettext("ETA %(value)s is more than a year away."), **shown)
    return _fmt(
        gettext('ETA "%(value)s" not understood: use YYYY-MM-DD, MM-DD or +N days.'), **shown
    )
