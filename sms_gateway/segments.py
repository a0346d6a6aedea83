"""How many SMS segments a text costs (GSM 03.38 or UCS-2), and fitting a reply into a budget.

GSM-7 carries 160 septets in one segment and 153 per part of a longer message; extension
characters (`€`, `[`, `{` …) need an escape septet and count double. Any other character
switches the whole text to UCS-2: 70 UTF-16 units alone, 67 per part (an emoji is two units).
"""

import math
from dataclasses import dataclass

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
_GSM = GSM_BASIC | GSM_EXTENDED

_LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}
# An ellipsis in GSM-7 would turn the whole text into UCS-2; three dots stay cheap.
_ELLIPSIS = {"GSM-7": "...", "UCS-2": "…"}


@dataclass(frozen=True)
class Count:
    encoding: str
    units: int
    segments: int


def is_gsm(text: str) -> bool:
    return _GSM.issuperset(text)


def _units(text: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return len(text) + sum(map(text.count, GSM_EXTENDED))
    return len(text.encode("utf-16-le")) // 2


def count(text: str) -> Count:
    encoding = "GSM-7" if is_gsm(text) else "UCS-2"
    units = _units(text, encoding)
    single, multi = _LIMITS[encoding]
    segments = 1 if units <= single else math.ceil(units / multi)
    return Count(encoding, units, segments)


def capacity(encoding: str, max_segments: int) -> int:
    """Units that fit in `max_segments` segments: 306 GSM-7 septets or 134 UCS-2 units for two."""
    single, multi = _LIMITS[encoding]
    return single if max_segments == 1 else multi * max_segments


def fit(text: str, max_segments: int = 2) -> str:
    """`text` unchanged when it fits; otherwise cut, ending with an ellipsis (the last resort:
    replies are written to fit)."""
    text = text.strip()
    encoding = count(text).encoding
    budget = capacity(encoding, max_segments)
    if _units(text, encoding) <= budget:
        return text
    ellipsis = _ELLIPSIS[encoding]
    budget -= _units(ellipsis, encoding)
    kept, used = [], 0
    for ch in text:
        used += _units(ch, encoding)
        if used > budget:
            break
        kept.append(ch)
    return "".join(kept).rstrip() + ellipsis
