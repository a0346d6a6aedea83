"""`python manage.py sms_reprocess`: run failed inbound texts (and those a crash left `received`)
through the pipeline again. Replies go out through the outbound queue."""

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Q
from django.utils import timezone

from sms_gateway.inbound import process
from sms_gateway.models import InboundMessage, InboundStatus
from sms_gateway.tasks import GRACE


class Command(BaseCommand):
    help = "Process failed inbound SMS again, and received ones older than a few minutes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="only these messages (default: all failed and stale)")

    def handle(self, *args, ids: list[int], **options) -> None:
        pending = InboundMessage.objects.filter(
            Q(status=InboundStatus.FAILED)
            | Q(status=InboundStatus.RECEIVED, received_at__lt=timezone.now() - GRACE)
        )
        if ids:
            pending = pending.filter(pk__in=ids)
        count = 0
        for message_id in pending.order_by("received_at").values_list("pk", flat=True):
            process(message_id, inline=False)
            message = InboundMessage.objects.get(pk=message_id)
            self.stdout.write(f"#{message.pk} {message.sender}: {message.status} {message.reply}")
            count += 1
        self.stdout.write(f"{count} messages reprocessed.")
