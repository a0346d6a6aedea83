"""Background work of the SMS door: sending, and the sweeper that picks up what a crash left
between a commit and the hand-off to the worker."""

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from sms_gateway import inbound, outbound
from sms_gateway.models import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus

logger = logging.getLogger(__name__)

# A row untouched this long after it was due was lost on the way to the worker.
GRACE = timedelta(minutes=2)
# Twilio answers within seconds; a row `sending` this long belonged to a worker that died.
SENDING_STALE = timedelta(minutes=10)
SWEEP_BATCH = 500


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_outbound(self, message_id: int) -> None:
    # Attempts are counted on the row, which gives up after outbound.MAX_ATTEMPTS.
    later = outbound.deliver(message_id)
    if later is not None:
        raise self.retry(countdown=later.countdown)


@shared_task(acks_late=True)
def send_outbound_many(message_ids: list[int]) -> None:
    """Send each text once; one that must wait for a retry goes on as a task of its own. A text
    that fails unexpectedly costs only itself: the sweeper finds it later."""
    queued = outbound.read_queued(message_ids)
    for message_id in message_ids:
        if message_id not in queued:
            continue  # sent, being sent, suppressed or failed: never twice
        try:
            later = outbound.deliver(message_id, read=queued[message_id])
            if later is not None:
                send_outbound.apply_async((message_id,), countdown=later.countdown)
        except Exception:  # the row stays queued or sending: the sweeper takes it up
            logger.exception("SMS %s could not be sent", message_id)


@shared_task(acks_late=True)
def process_inbound(message_id: int) -> None:
    inbound.process(message_id, inline=False)


@shared_task
def sweep() -> dict[str, int]:
    """Re-queue stale inbound and outbound messages; claims in the tasks make this safe to repeat."""
    now = timezone.now()
    # Its worker died mid-send: whether the provider got it is unknown, and a duplicate text
    # costs less than a lost shipment notice.
    revived = OutboundMessage.objects.filter(status=OutboundStatus.SENDING, sending_since__lt=now - SENDING_STALE)
    revived.update(status=OutboundStatus.QUEUED, status_changed_at=now)
    due = OutboundMessage.objects.filter(status=OutboundStatus.QUEUED).filter(
        Q(next_attempt_at__isnull=True, created_at__lt=now - GRACE) | Q(next_attempt_at__lt=now - GRACE)
    )
    outbound_ids = list(due.order_by("created_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    outbound.send_soon(outbound_ids)
    stale = InboundMessage.objects.filter(status=InboundStatus.RECEIVED, received_at__lt=now - GRACE)
    inbound_ids = list(stale.order_by("received_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    for message_id in inbound_ids:
        process_inbound.delay(message_id)
    return {"outbound": len(outbound_ids), "inbound": len(inbound_ids)}
