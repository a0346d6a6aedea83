"""Customer names and phones in the form duplicate search compares, company-wide."""

import re
import unicodedata

# Legal-form words say nothing about which company it is: "Wuhan Motors Ltd" and
# "Wuhan Motors Co., Ltd." are the same customer.
_LEGAL_FORMS = re.compile(
    r"(有限责任公司|股份有限公司|有限公司|公司|\b(co|company|corp|corporation|inc|ltd|limited|llc|plc|gmbh)\b)",
    re.IGNORECASE,
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def name_key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = _LEGAL_FORMS.sub(" ", text)
    return _NOT_WORD.sub("", text)
