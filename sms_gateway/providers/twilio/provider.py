"""Sending through the real `twilio` client.

`TWILIO_API_BASE_URL` points the client at a Twilio-compatible server (tests use one on
loopback): twilio builds absolute https://api.twilio.com URLs, and `HttpClient.request` is the
one place every call passes, so that is where the base is swapped.
"""

import functools
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from backend.core.pacing import pace
from sms_gateway.providers.base import PermanentSendError, Provider, Sent, TransientSendError

# Twilio answers in well under a second; a send stuck longer is retried by the task.
TIMEOUT_SECONDS = 10
API_URL = "https://api.twilio.com"


class _HttpClient(TwilioHttpClient):
    """Rewrites the base URL when one is configured, and remembers the Retry-After of the last
    response on this thread (twilio's exception does not carry headers)."""

    def __init__(self, base_url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        self.local = threading.local()
        self._settle_environment()

    def _settle_environment(self) -> None:
        """twilio asks `requests` for the environment's proxy and CA bundle on every request,
        which reads the whole environment each time (a third of a send's CPU on the local stack):
        they are read once here, for the one host the client calls, and kept on the session. A
        change to them needs a restart, as every other setting does."""
        if self.session is None:
            return
        found = self.session.merge_environment_settings(self.base_url or API_URL, {}, None, None, None)
        self.session.proxies.update(found["proxies"])
        self.session.verify = found["verify"]
        self.session.trust_env = False

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.base_url:
            parts = urlsplit(url)
            url = f"{self.base_url}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        self.local.retry_after = None
        response = super().request(method, url, *args, **kwargs)
        self.local.retry_after = (response.headers or {}).get("Retry-After")
        return response


class TwilioProvider(Provider):
    name = "twilio"

    def __init__(self, client: Client, *, sender: dict[str, str], public_base_url: str = "") -> None:
        self.client = client
        self.sender = sender
        self.public_base_url = public_base_url.rstrip("/")

    @classmethod
    def from_settings(cls) -> "TwilioProvider":
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            raise ImproperlyConfigured("SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            sender = {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        elif settings.TWILIO_FROM_NUMBER:
            sender = {"from_": settings.TWILIO_FROM_NUMBER}
        else:
            raise ImproperlyConfigured("SMS_PROVIDER=twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        client = _client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL)
        return cls(client, sender=sender, public_base_url=settings.PUBLIC_BASE_URL)

    def status_callback(self) -> str | None:
        if not self.public_base_url:
            return None
        return self.public_base_url + reverse("sms_gateway:twilio-status")

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> Sent:
        callback = status_callback or self.status_callback()
        # No faster than the sending number may send (Twilio answers 429 beyond it), across workers.
        pace(f"twilio:{next(iter(self.sender.values()))}", settings.SMS_SENDER_RATE_PER_SECOND)
        try:
            message = self.client.messages.create(
                to=to, body=body, **self.sender, **({"status_callback": callback} if callback else {})
            )
        except TwilioRestException as error:
            raise self._translate(error) from error
        except requests.RequestException as error:
            # Includes timeouts: Twilio may have accepted the text, but a lost notice costs more
            # than a rare duplicate, so the send is tried again.
            raise TransientSendError(f"network: {error.__class__.__name__}: {error}", code="network") from error
        return Sent(sid=message.sid, status=message.status or "queued")

    def _translate(self, error: TwilioRestException) -> Exception:
        code = str(error.code or error.status)
        text = f"{error.status} {code}: {error.msg}"
        if error.status == 429 or error.status >= 500:
            retry_after = getattr(self.client.http_client.local, "retry_after", None)
            return TransientSendError(text, code=code, retry_after=_seconds(retry_after))
        return PermanentSendError(text, code=code)


def _seconds(header: str | None) -> float | None:
    try:
        return float(header) if header else None
    except ValueError:
        return None  # an HTTP date: the backoff schedule is good enough


@functools.lru_cache(maxsize=4)
def _client(account_sid: str, auth_token: str, base_url: str) -> Client:
    """One client per configuration, so its connection pool is reused across sends."""
    return Client(account_sid, auth_token, http_client=_HttpClient(base_url, timeout=TIMEOUT_SECONDS))
