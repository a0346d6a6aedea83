from dataclasses import dataclass

from django.db.models import Model

from sms_gateway.models import InboundStatus


@dataclass(frozen=True)
class Outcome:
    """What handling one text came to: the reply, and what it created for the message's record."""

    reply: str
    status: str = InboundStatus.PROCESSED
    error: str = ""
    created: Model | None = None
    reference: str = ""
