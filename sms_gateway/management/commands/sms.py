"""`python manage.py sms FROM "TEXT"`: one text through the real inbound pipeline (no signature);
prints the reply. Texts it causes (a shipment notice) are printed by the console provider."""

import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from sms_gateway.inbound import Text, receive_and_process


class Command(BaseCommand):
    help = "Send one SMS through the inbound pipeline, as if texted from FROM, and print the reply."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sender", metavar="FROM", help="the sender's phone, e.g. +8613800000001")
        parser.add_argument("text", metavar="TEXT")

    def handle(self, *args, sender: str, text: str, **options) -> None:
        reply = receive_and_process(
            Text("cli", f"cli-{uuid.uuid4().hex}", sender, settings.TWILIO_FROM_NUMBER or "cli", text)
        )
        self.stdout.write(f"[reply to {sender}] {reply or '(no reply)'}")
