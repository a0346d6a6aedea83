"""The provider registry: `get_provider()` builds the one named by settings.SMS_PROVIDER."""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from sms_gateway.providers.base import Provider
from sms_gateway.providers.console import ConsoleProvider
from sms_gateway.providers.locmem import LocmemProvider
from sms_gateway.providers.twilio import TwilioProvider

PROVIDERS: dict[str, Callable[[], Provider]] = {
    "twilio": TwilioProvider.from_settings,
    "console": ConsoleProvider,
    "locmem": LocmemProvider,
}


def get_provider() -> Provider:
    try:
        return PROVIDERS[settings.SMS_PROVIDER]()
    except KeyError:
        raise ImproperlyConfigured(f"SMS_PROVIDER must be one of {sorted(PROVIDERS)}, not {settings.SMS_PROVIDER!r}")
