"""Reading one SMS body into a typed command (see /work/shared/SMS_COMMANDS.md).

Pure: no database, no settings. `parse` never raises; whatever it cannot read becomes a
ParseError whose `command` names the command the text looked like, so the reply can show
that command's usage line.
"""

import difflib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .commands import (
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

logger = logging.getLogger(__name__)

MAX_LENGTH = 1600
MAX_QTY = 999
MAX_ETA_DAYS = 365

ENGLISH_KEYWORDS = {
    "SOLD": "SOLD", "SALE": "SOLD",
    "SHIP": "SHIP",
    "OK": "OK",
    "RECV": "RECV", "DELIVERED": "RECV",
    "VISIT": "VISIT",
    "STATUS": "STATUS",
    "UNDO": "UNDO",
    "HELP": "HELP", "H": "HELP",
    "STOP": "STOP",
    "START": "START",
}  # fmt: skip
# Traditional forms too: NFKC does not map them and they are just as unambiguous.
CHINESE_KEYWORDS = {
    "销售": "SOLD", "售出": "SOLD", "卖出": "SOLD", "銷售": "SOLD", "賣出": "SOLD",
    "发货": "SHIP", "發貨": "SHIP",
    "已通知": "OK",
    "到货": "RECV", "签收": "RECV", "到貨": "RECV", "簽收": "RECV",
    "拜访": "VISIT", "拜訪": "VISIT",
    "查询": "STATUS", "查詢": "STATUS",
    "撤销": "UNDO", "撤銷": "UNDO",
    "帮助": "HELP", "幫助": "HELP",
    "退订": "STOP", "退訂": "STOP",
    "订阅": "START", "訂閱": "START",
}  # fmt: skip
# Longest first, so a glued keyword is cut at the right place.
_CHINESE_BY_LENGTH = sorted(CHINESE_KEYWORDS, key=len, reverse=True)
# Words that are not keywords but clearly meant one: the reply shows that command's usage.
_NEAR_WORDS = {
    "SELL": "SOLD", "SELLS": "SOLD", "SOLDS": "SOLD",
    "SHIPPED": "SHIP", "SENT": "SHIP",
    "RECEIVED": "RECV", "RECEIVE": "RECV", "RECIEVED": "RECV", "RCV": "RECV", "RCVD": "RECV",
    "DELIVER": "RECV", "DELIVERY": "RECV",
    "CANCEL": "UNDO", "UNSUBSCRIBE": "STOP", "SUBSCRIBE": "START",
}  # fmt: skip
_ETA_WORDS = frozenset({"ETA", "预计", "預計"})
_LAST_WORDS = frozenset({"LAST", "上一条", "上条", "最后一条", "上一條", "上條", "最後一條"})
_RELATIVE_DAYS = {"TODAY": 0, "TOMORROW": 1, "今天": 0, "明天": 1, "后天": 2, "後天": 2}

# Separators after NFKC: full-width '，' '；' have become ',' ';' but '、' survives NFKC.
_SEPARATOR_CHARS = ",;、，；"
_TOKEN = re.compile(r"[^\s,;、，；]+")
# Explicit [0-9] everywhere: `\d` would also accept Arabic-Indic and other digits.
_QTY = re.compile(r"[0-9]{1,3}")
_UNITS = r"(?:PCS|PC|UNITS|UNIT|X|台|辆|輛|个|個|件|套|部|只|隻|箱|支)"
_QTY_WITH_UNIT = re.compile(r"(?:[X×*]([0-9]{1,3}))|(?:([0-9]{1,3})" + _UNITS + ")")
_CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
                   "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CHINESE_QTY = re.compile(r"([一二两兩三四五六七八九十]{1,3})" + _UNITS + "?")
_NUMBER_LIKE = re.compile(r"[+-][0-9]+(?:[.][0-9]*)?|[0-9]*[.][0-9]+|[0-9]+[.]")
_SERIAL = re.compile(r"[A-Z0-9][A-Z0-9#._/-]*")
_ORDER = re.compile(r"([A-Z]+)[-_#/]?([0-9]+)")
_ORDER_OTHER = re.compile(r"[A-Z0-9][A-Z0-9#._/-]*")
_LETTERS = re.compile(r"[A-Z]+")
_DIGITS = re.compile(r"[0-9]+")
_REFERENCE = re.compile(r"#?([A-Z]{1,3})[-#]?([0-9]{1,12})")
_ENGLISH_COLON = re.compile(r"([A-Za-z]+):+(.+)")
_ETA_GLUED = re.compile(r"(ETA|预计|預計):?(.+)", re.IGNORECASE)
_DAYS_PLUS = re.compile(r"\+([0-9]{1,6})(?:D|DAY|DAYS|天|日)?")
_DAYS_UNIT = re.compile(r"([0-9]{1,6})(?:D|DAY|DAYS|天|日)")
_FULL_DATE = re.compile(
    r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})|([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})[日号]?"
)
_MONTH_DAY = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})|([0-9]{1,2})月([0-9]{1,2})[日号]?")
# Joiners that give emoji and some scripts their shape: kept, the other format chars are not.
_JOINERS = frozenset("\u200c\u200d")


@dataclass(frozen=True)
class _Token:
    text: str
    start: int  # offsets into the normalised text, so '@customer' and notes keep their spacing
    end: int


@dataclass(frozen=True)
class _Keyword:
    command: str | None
    lang: Lang
    exact: bool  # False when the word only looked like the keyword
    rest: _Token | None = None  # what was glued to the keyword ('销售CS75' -> 'CS75')


# ---------------------------------------------------------------------------- text cleaning


def _as_text(text: object) -> str:
    """Whatever arrived, as a str: callers are webhooks and management commands."""
    if isinstance(text, str):
        return text
    if isinstance(text, bytes | bytearray):
        return bytes(text).decode("utf-8", "replace")
    if text is None:
        return ""
    try:
        return str(text)
    except Exception:
        return ""


def _is_control(char: str) -> bool:
    # Controls, format chars (zero-width space, BOM), lone surrogates, private use and code
    # points unknown to this Python (newer emoji) all act as separators.
    return unicodedata.category(char)[0] == "C" and char not in _JOINERS


def _is_ignorable(char: str) -> bool:
    """Punctuation, symbols (emoji), spaces, controls and emoji modifiers: noise at the edges."""
    category = unicodedata.category(char)
    return category[0] in "PSZC" or category == "Me" or _is_variation_selector(char)


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] == "P"


def _is_variation_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _strip_edges(text: str, keep: str = "") -> str:
    start, end = 0, len(text)
    while start < end and text[start] not in keep and _is_ignorable(text[start]):
        start += 1
    while end > start and text[end - 1] not in keep and _is_ignorable(text[end - 1]):
        end -= 1
    return text[start:end]


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", _as_text(text))
    if text.isprintable():  # holds no control at all: most texts, spared the look at each character
        return text
    return "".join(" " if _is_control(c) else c for c in text)


def normalise(text: str) -> str:
    """NFKC ('ＳＯＬＤ　ＣＳ７５' -> 'SOLD CS75'), invisible controls to spaces, and leading and
    trailing punctuation, symbols (emoji) and whitespace removed."""
    return _strip_edges(_clean(text))


def _tokenise(text: str) -> list[_Token]:
    return [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _strip_separators(text: str) -> str:
    return text.strip(_SEPARATOR_CHARS + " \t\r\n").strip()


# ---------------------------------------------------------------------------- keywords


def _read_keyword(token: _Token) -> _Keyword:
    word = _strip_edges(token.text)  # 'SOLD:' / 'STATUS.' / '销售。'
    upper = word.upper()
    if upper in ENGLISH_KEYWORDS:
        return _Keyword(ENGLISH_KEYWORDS[upper], "en", True)
    if word in CHINESE_KEYWORDS:
        return _Keyword(CHINESE_KEYWORDS[word], "zh-hans", True)
    colon = _ENGLISH_COLON.fullmatch(token.text)  # 'SOLD:CS75'
    if colon and colon[1].upper() in ENGLISH_KEYWORDS:
        command = ENGLISH_KEYWORDS[colon[1].upper()]
        return _Keyword(command, "en", True, _rest(token, colon.start(2)))
    for keyword in _CHINESE_BY_LENGTH:  # '销售CS75'
        if token.text.startswith(keyword):
            rest = _rest(token, len(keyword))
            return _Keyword(CHINESE_KEYWORDS[keyword], "zh-hans", True, rest)
    return _guess(word)


def _rest(token: _Token, offset: int) -> _Token | None:
    """The part of `token` after a glued keyword, without the ':' or '-' that joined them
    (punctuation only: '+' starts a phone number, '@' a customer)."""
    text = token.text
    while offset < len(text) and text[offset] != "@" and _is_punctuation(text[offset]):
        offset += 1
    if offset >= len(text):
        return None
    return _Token(text[offset:], token.start + offset, token.end)


def _guess(word: str) -> _Keyword:
    """The command a non-keyword looked like ('SOLDD', 'SHP', 'SHIPPED'), or none."""
    for keyword in _CHINESE_BY_LENGTH:
        if keyword in word:
            return _Keyword(CHINESE_KEYWORDS[keyword], "zh-hans", False)
    upper = word.upper()
    if not upper.isascii():
        return _Keyword(None, None, False)
    if upper in _NEAR_WORDS:
        return _Keyword(_NEAR_WORDS[upper], "en", False)
    # 'H' would claim every word starting with H; the others are long enough to mean something.
    candidates = [k for k in ENGLISH_KEYWORDS if len(k) >= 2]
    for keyword in sorted(candidates, key=len, reverse=True):
        if upper.startswith(keyword):
            return _Keyword(ENGLISH_KEYWORDS[keyword], "en", False)
    close = difflib.get_close_matches(upper, [k for k in candidates if len(k) >= 3], 1, 0.75)
    if close:
        return _Keyword(ENGLISH_KEYWORDS[close[0]], "en", False)
    return _Keyword(None, None, False)


def _only_question_marks(raw: str) -> bool:
    """'?' alone (or '？', '??') means STATUS, although '?' is otherwise punctuation noise."""
    tokens = _tokenise(_strip_edges(_clean(raw), keep="?"))
    return bool(tokens) and set(tokens[0].text) == {"?"}


# ---------------------------------------------------------------------------- entry points


def parse(text: str, *, today: date) -> Command | ParseError:
    """Read one SMS body. Never raises: anything unreadable is a ParseError."""
    try:
        if isinstance(today, datetime):
            today = today.date()
        return _parse(_as_text(text), today)
    except Exception:
        # A safety net for parser bugs: the sender still gets a reply, and the log the trace.
        logger.exception("SMS parser failed on %r", _as_text(text)[:200])
        return ParseError("internal", None, None)


def _parse(raw: str, today: date) -> Command | ParseError:
    if len(raw) > MAX_LENGTH:
        return _too_long(raw)
    if _only_question_marks(raw):
        return Status(lang=None)
    text = normalise(raw)
    tokens = _tokenise(text)
    if not tokens:
        return ParseError("empty", None, None)
    keyword = _read_keyword(tokens[0])
    if keyword.command is None or not keyword.exact:
        word = _strip_edges(tokens[0].text) or tokens[0].text
        return ParseError("unknown_command", keyword.command, keyword.lang, {"word": word})
    args = ([keyword.rest] if keyword.rest else []) + tokens[1:]
    return _READERS[keyword.command](text, args, keyword.lang, today)


def _too_long(raw: str) -> ParseError:
    # The keyword still decides the reply's language, so read the beginning.
    tokens = _tokenise(normalise(raw[:64]))
    keyword = _read_keyword(tokens[0]) if tokens else _Keyword(None, None, False)
    params = {"length": len(raw), "limit": MAX_LENGTH}
    return ParseError("too_long", keyword.command, keyword.lang, params)


def suggest_codes(code: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """The known product codes closest to `code`, best first, case-insensitive; the known
    codes are returned as spelled in `known`."""
    wanted = normalise(code).upper()
    if not wanted or limit <= 0:
        return []
    spelled: dict[str, str] = {}
    for item in known:
        if isinstance(item, str) and item.strip():
            spelled.setdefault(item.strip().upper(), item.strip())
    scored = [(_similarity(wanted, upper), upper) for upper in spelled]
    scored = [(score, upper) for score, upper in scored if score >= 0.5]
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [spelled[upper] for _, upper in scored[:limit]]


def _similarity(wanted: str, candidate: str) -> float:
    score = difflib.SequenceMatcher(None, wanted, candidate).ratio()
    shorter = min(len(wanted), len(candidate))
    # 'CS7' for 'CS75' or 'BCD470X' for 'BCD470': a typed prefix is a strong hint.
    if shorter >= 2 and (candidate.startswith(wanted) or wanted.startswith(candidate)):
        score += 0.5
    return score


# ---------------------------------------------------------------------------- SOLD


def _error(code: str, command: str | None, lang: Lang, **params: object) -> ParseError:
    return ParseError(code, command, lang, dict(params))


def _read_sold(text: str, args: list[_Token], lang: Lang, today: date) -> Sold | ParseError:
    customer = None
    at = next((i for i, arg in enumerate(args) if "@" in arg.text), None)
    if at is not None:
        # The customer is everything after '@': names contain spaces ('@ Wuhan Motors'). An '@'
        # glued to the token before it ('CS75@Wuhan') starts the customer too.
        token = args[at]
        cut = token.start + token.text.index("@")
        customer = _collapse(_strip_separators(text[cut:].lstrip("@"))) or None
        before = token.text[: cut - token.start]
        args = args[:at] + ([_Token(before, token.start, cut)] if before else [])
    if not args:
        return _error("missing_argument", "SOLD", lang, argument="product")
    product, rest = args[0].text.upper(), args[1:]
    qty = _read_qty(rest[0].text) if rest else None
    if isinstance(qty, ParseError):
        return ParseError(qty.code, "SOLD", lang, qty.params)
    if qty is not None:
        rest = rest[1:]
    serials = tuple(token.text.upper() for token in rest)
    problem = _serials_problem(serials, qty)
    if problem:
        return ParseError(problem.code, "SOLD", lang, problem.params)
    return Sold(product, qty or len(serials) or 1, serials, customer, lang)


def _read_qty(token: str) -> int | ParseError | None:
    """The quantity in the token after the product; None when that token is a serial."""
    upper = token.upper()
    number = None
    if _QTY.fullmatch(upper):
        number = int(upper)
    elif match := _QTY_WITH_UNIT.fullmatch(upper):  # '2台', '2PCS', 'X2'
        number = int(match[1] or match[2])
    elif match := _CHINESE_QTY.fullmatch(token):  # '两台', '三'
        number = _chinese_number(match[1])
    elif _NUMBER_LIKE.fullmatch(upper):  # '-1', '2.5', '+3': meant as a number, but wrong
        return ParseError("bad_quantity", "SOLD", None, {"value": token})
    if number is None:
        return None
    if not 1 <= number <= MAX_QTY:
        return ParseError("bad_quantity", "SOLD", None, {"value": token})
    return number


def _chinese_number(text: str) -> int | None:
    """一..九十九 ('两' = 2); None for anything else, so the token is read as a serial."""
    if "十" not in text:
        return _CHINESE_DIGITS.get(text)
    tens_text, _, ones_text = text.partition("十")
    tens = _CHINESE_DIGITS.get(tens_text, 0) if tens_text else 1
    ones = _CHINESE_DIGITS.get(ones_text, 0) if ones_text else 0
    if (tens_text and not tens) or (ones_text and not ones) or "十" in ones_text:
        return None
    return tens * 10 + ones


def _serials_problem(serials: tuple[str, ...], qty: int | None) -> ParseError | None:
    for serial in serials:
        if not _SERIAL.fullmatch(serial):
            # Usually a customer name without '@': the reply says where it belongs.
            return _error("bad_serial", "SOLD", None, serial=serial)
    seen: set[str] = set()
    for serial in serials:
        if serial in seen:
            return _error("duplicate_serial", "SOLD", None, serial=serial)
        seen.add(serial)
    if qty is not None and serials and len(serials) != qty:
        return _error("qty_serial_mismatch", "SOLD", None, qty=qty, serials=len(serials))
    if len(serials) > MAX_QTY:
        return _error("bad_quantity", "SOLD", None, value=str(len(serials)))
    return None


# ---------------------------------------------------------------------------- orders


def _read_order(args: list[_Token]) -> tuple[str | None, int, str | None]:
    """(order, tokens used, error code). 'po1001', 'PO-1001', 'PO 1001' -> 'PO-1001'."""
    if not args:
        return None, 0, "missing_argument"
    first, used = args[0].text.upper(), 1
    if len(args) > 1 and _LETTERS.fullmatch(first) and _DIGITS.fullmatch(args[1].text):
        first, used = first + args[1].text, 2
    if match := _ORDER.fullmatch(first):
        return f"{match[1]}-{match[2]}", used, None
    # Other shapes are kept as typed, but an order number without a digit is not one.
    if _ORDER_OTHER.fullmatch(first) and any(c.isdigit() for c in first):
        return first, used, None
    return None, used, "bad_order"


def _order_error(code: str, command: str, lang: Lang, args: list[_Token]) -> ParseError:
    if code == "missing_argument":
        return _error(code, command, lang, argument="order")
    return _error(code, command, lang, value=args[0].text)


def _read_ok(text: str, args: list[_Token], lang: Lang, today: date) -> Ok | ParseError:
    # Words after the order ('OK PO1001 thanks') are ignored.
    order, _, problem = _read_order(args)
    return _order_error(problem, "OK", lang, args) if problem else Ok(order, lang)


def _read_recv(text: str, args: list[_Token], lang: Lang, today: date) -> Recv | ParseError:
    order, _, problem = _read_order(args)
    return _order_error(problem, "RECV", lang, args) if problem else Recv(order, lang)


# ---------------------------------------------------------------------------- SHIP


def _read_ship(text: str, args: list[_Token], lang: Lang, today: date) -> Ship | ParseError:
    eta_found = _find_eta(args)
    eta = None
    if eta_found:
        index, value, used = eta_found
        if value is None:
            return _error("missing_argument", "SHIP", lang, argument="date")
        eta, reason = _read_eta(value, today)
        if reason:
            return _error("bad_eta", "SHIP", lang, value=value, reason=reason)
        args = args[:index] + args[index + used :]
    order, used, problem = _read_order(args)
    if problem:
        return _order_error(problem, "SHIP", lang, args)
    carrier, tracking = _carrier_and_tracking([token.text for token in args[used:]])
    return Ship(order, carrier, tracking, eta, lang)


def _find_eta(args: list[_Token]) -> tuple[int, str | None, int] | None:
    """(index of the ETA word, the date text or None, tokens used) for the first ETA."""
    for index, token in enumerate(args):
        if _strip_edges(token.text).upper() in _ETA_WORDS:
            value = args[index + 1].text if index + 1 < len(args) else None
            return index, value, 2
        glued = _ETA_GLUED.fullmatch(token.text)
        # 'ETA+2' / '预计3月5日'; not at index 0, where the order number belongs.
        if index and glued and _looks_like_date(glued[2]):
            return index, glued[2], 1
    return None


def _looks_like_date(value: str) -> bool:
    upper = value.upper()
    patterns = (_DAYS_PLUS, _DAYS_UNIT, _FULL_DATE, _MONTH_DAY)
    return upper in _RELATIVE_DAYS or any(p.fullmatch(upper) for p in patterns)


def _read_eta(value: str, today: date) -> tuple[date | None, str | None]:
    """(date, None) or (None, reason) with reason 'format', 'past' or 'range'."""
    upper = value.upper()
    if upper in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[upper]), None
    if match := _DAYS_PLUS.fullmatch(upper) or _DAYS_UNIT.fullmatch(upper):
        days = int(match[1])
        if days > MAX_ETA_DAYS:
            return None, "range"
        return today + timedelta(days=days), None
    if match := _FULL_DATE.fullmatch(upper):
        return _full_date(*(int(g) for g in match.groups() if g is not None), today=today)
    if match := _MONTH_DAY.fullmatch(upper):
        month, day = (int(g) for g in match.groups() if g is not None)
        return _next_month_day(month, day, today), None if _valid_day(month, day) else "format"
    return None, "format"


def _full_date(year: int, month: int, day: int, *, today: date) -> tuple[date | None, str | None]:
    try:
        eta = date(year, month, day)
    except ValueError:
        return None, "format"
    # A year-old ETA is almost always a typo in the year: better to ask than to record it.
    if eta < today:
        return None, "past"
    if eta > today + timedelta(days=MAX_ETA_DAYS):
        return None, "range"
    return eta, None


def _valid_day(month: int, day: int) -> bool:
    try:
        date(2000, month, day)  # a leap year, so 02-29 is a valid month-day
    except ValueError:
        return False
    return True


def _next_month_day(month: int, day: int, today: date) -> date | None:
    """The first such date on or after today (02-29 waits for the next leap year)."""
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _carrier_and_tracking(words: list[str]) -> tuple[str | None, str | None]:
    """The form is '[carrier] [tracking]', but carriers have spaces ('China Post') and a lone
    tracking number is common: the tracking number is the token with digits."""
    if not words:
        return None, None
    if len(words) == 1:
        word = words[0]
        return (None, word.upper()) if _digit_count(word) >= 4 else (word, None)
    with_digits = [i for i, w in enumerate(words) if _digit_count(w)]
    if not with_digits:
        return " ".join(words), None
    long_ones = [i for i in with_digits if _digit_count(words[i]) >= 4]
    index = (long_ones or with_digits)[-1]
    carrier = " ".join(w for i, w in enumerate(words) if i != index) or None
    return carrier, words[index].upper()


def _digit_count(word: str) -> int:
    return sum(c in "0123456789" for c in word)


# ---------------------------------------------------------------------------- the others


def _read_visit(text: str, args: list[_Token], lang: Lang, today: date) -> Visit | ParseError:
    while args and args[0].text.strip("@") == "":  # detached '@'s: 'VISIT @ Wuhan ...'
        args = args[1:]
    if not args:
        return _error("missing_argument", "VISIT", lang, argument="customer")
    customer = args[0].text.lstrip("@")
    note = _collapse(_strip_separators(text[args[0].end :]))
    if not note:
        return _error("missing_argument", "VISIT", lang, argument="note")
    return Visit(customer, note, lang)


def _read_undo(text: str, args: list[_Token], lang: Lang, today: date) -> Undo | ParseError:
    if not args or _strip_edges(args[0].text).upper() in _LAST_WORDS:
        return Undo(None, lang)
    # Undo destroys: an argument that is not a reference is an error, not 'the last one'.
    match = _REFERENCE.fullmatch(args[0].text.upper())
    if not match:
        return _error("bad_reference", "UNDO", lang, value=args[0].text)
    return Undo(match[1] + match[2], lang)


def _no_arguments(factory: Callable[[Lang], Command]) -> Callable[..., Command]:
    # STATUS, HELP, STOP, START: words after the keyword ('STOP please') change nothing.
    def read(text: str, args: list[_Token], lang: Lang, today: date) -> Command:
        return factory(lang)

    return read


_READERS: dict[str, Callable[[str, list[_Token], Lang, date], Command | ParseError]] = {
    "SOLD": _read_sold,
    "SHIP": _read_ship,
    "OK": _read_ok,
    "RECV": _read_recv,
    "VISIT": _read_visit,
    "STATUS": _no_arguments(Status),
    "UNDO": _read_undo,
    "HELP": _no_arguments(Help),
    "STOP": _no_arguments(Stop),
    "START": _no_arguments(Start),
}
