"""The SMS command language: text in, a typed command or a ParseError out (no database).

The handler calls `parse(body, today=...)`; on a ParseError it replies with `error_text(error)`
under `translation.override(error.lang or the user's language)`.
"""

from .commands import (
    COMMANDS,
    ERROR_CODES,
    MISSING_ARGUMENTS,
    Command,
    Help,
    Lang,
    Ok,
    ParseError,
    Recv,
    Ship,
    Sold,
    Start,
    Status,
    Stop,
    Undo,
    Visit,
)
from .messages import command_list, error_text, help_text, usage
from .parser import (
    CHINESE_KEYWORDS,
    ENGLISH_KEYWORDS,
    MAX_LENGTH,
    normalise,
    parse,
    suggest_codes,
)

__all__ = [
    "CHINESE_KEYWORDS",
    "COMMANDS",
    "ENGLISH_KEYWORDS",
    "ERROR_CODES",
    "MAX_LENGTH",
    "MISSING_ARGUMENTS",
    "Command",
    "Help",
    "Lang",
    "Ok",
    "ParseError",
    "Recv",
    "Ship",
    "Sold",
    "Start",
    "Status",
    "Stop",
    "Undo",
    "Visit",
    "command_list",
    "error_text",
    "help_text",
    "normalise",
    "parse",
    "suggest_codes",
    "usage",
]
