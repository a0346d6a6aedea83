from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _

from backend.core.errors import ApplicationError
from sms_gateway.models import InboundStatus


@dataclass(frozen=True)
class Outcome:
    """What handling one text came to: the reply, and what it created for the message's record."""

    reply: str
    status: str = InboundStatus.PROCESSED
    error: str = ""
    created: Model | None = None
    reference: str = ""


def refusal(error: ApplicationError) -> Outcome:
    """A refused text: the domain's own message, with what helps the sender fix it."""
    text = str(error.message)
    suggestions = error.extra.get("suggestions") if error.code == "unknown_product" else None
    if suggestions:
        text += " " + _("Did you mean %(codes)s?") % {"codes": ", ".join(suggestions)}
    return Outcome(reply=text, status=InboundStatus.REJECTED, error=error.code)


def reply_language(command: Any, user: Any) -> str:
    """A reply speaks the language the text was written in, else the sender's own, else English."""
    return getattr(command, "lang", None) or getattr(user, "preferred_language", None) or "en"
