"""Phone numbers in one shape: E.164, parsed by `phonenumbers`."""

import phonenumbers
from django.conf import settings


def to_e164(raw: str, region: str | None = None) -> str | None:
    """The E.164 form of `raw`, or None when it is not a possible phone number."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw.strip(), region or settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
