"""What every SMS provider does. A send either returns the provider's id, or raises one of two
errors: transient (try again later) or permanent (trying again cannot help)."""

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str = "sent"


class SendError(Exception):
    def __init__(self, message: str, *, code: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class TransientSendError(SendError):
    """Network trouble, rate limiting (429) or the provider's own failure (5xx)."""


class PermanentSendError(SendError):
    """The provider refused this message for good (invalid number, unsubscribed recipient)."""


# Twilio's code for "Attempt to send to unsubscribed recipient": the number texted STOP to Twilio.
UNSUBSCRIBED = "21610"


class Provider(ABC):
    name: str

    @abstractmethod
    def send(self, *, to: str, body: str, status_callback: str | None = None) -> Sent:
        """Hand one text to the provider."""

    def status_callback(self) -> str | None:
        """Where the provider posts delivery reports; None when it posts none."""
        return None
