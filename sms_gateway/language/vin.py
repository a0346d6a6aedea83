"""VIN validation (ISO 3779 / GB 16735).

A VIN has 17 characters from 0-9 and A-Z without I, O and Q (they read like 1 and 0).
Position 9 is a check digit over the other 16: a wrong one means a typo somewhere, which is
worth telling the sender rather than recording a car that does not exist.
"""

import re

VIN_LENGTH = 17
CHECK_POSITION = 8  # zero-based index of the 9th character

_FORMAT = re.compile(r"[0-9A-HJ-NPR-Z]{17}")
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_LETTER_VALUES = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9),
        strict=True,
    )
)


def _value(char: str) -> int:
    return int(char) if char.isdigit() else _LETTER_VALUES[char]


def check_digit(vin: str) -> str:
    """The check digit ('0'-'9' or 'X') that a well-formed 17-character `vin` should carry."""
    total = sum(_value(c) * w for c, w in zip(vin.upper(), _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_problem(serial: str) -> str | None:
    """None for a valid VIN, 'bad_vin' when the shape is wrong (length, characters, I/O/Q),
    'bad_vin_check_digit' when only the 9th character disagrees with the others."""
    if not isinstance(serial, str):
        return "bad_vin"
    vin = serial.upper()
    # fullmatch on ASCII classes: non-ASCII digits (e.g. '٣') must not count as digits.
    if not _FORMAT.fullmatch(vin):
        return "bad_vin"
    if vin[CHECK_POSITION] != check_digit(vin):
        return "bad_vin_check_digit"
    return None


def is_valid_vin(serial: str) -> bool:
    return vin_problem(serial) is None
