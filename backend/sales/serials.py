"""Serial numbers. A car's VIN (ISO 3779 / GB 16735) carries a check digit at position 9, so a
typo is caught at the moment of reporting, not at payroll."""

import re

_VIN_SHAPE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7, "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    total = sum(_VALUES[ch] * weight for ch, weight in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_problem(serial: str) -> str | None:
    """None for a valid VIN; `bad_vin` for a wrong shape (length, I/O/Q, symbols);
    `bad_vin_check_digit` when position 9 does not match the rest: a typo."""
    if not _VIN_SHAPE.match(serial):
        return "bad_vin"
    if serial[8] != vin_check_digit(serial):
        return "bad_vin_check_digit"
    return None
