"""The default on a fresh machine: every text is printed, so a demo shows what people receive."""

import sys
import uuid

from sms_gateway.providers.base import Provider, Sent


class ConsoleProvider(Provider):
    name = "console"

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> Sent:
        sys.stdout.write(f"[SMS to {to}] {body}\n")
        sys.stdout.flush()
        return Sent(sid=f"CON{uuid.uuid4().hex}")
