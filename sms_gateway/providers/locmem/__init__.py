"""For tests: texts are kept in `outbox`, like Django's locmem e-mail backend."""

import uuid
from dataclasses import dataclass

from sms_gateway.providers.base import Provider, Sent


@dataclass(frozen=True)
class Text:
    to: str
    body: str
    sid: str


outbox: list[Text] = []


class LocmemProvider(Provider):
    name = "locmem"

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> Sent:
        text = Text(to=to, body=body, sid=f"LM{uuid.uuid4().hex}")
        outbox.append(text)
        return Sent(sid=text.sid)
