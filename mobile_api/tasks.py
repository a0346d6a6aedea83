"""Housekeeping of the app's door: what is past its use is deleted once a day."""

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from mobile_api.idempotency import REPLAY_WINDOW
from mobile_api.models import AuthThrottle, IdempotencyRecord, OtpCode

# Counters of the past day are kept for support staff looking into a lock-out.
KEEP_COUNTERS = timedelta(days=1)


@shared_task(name="mobile_api.prune")
def prune() -> dict[str, int]:
    """Replies past their replay window, counters of past windows, dead sign-in codes."""
    now = timezone.now()
    return {
        "idempotency": IdempotencyRecord.objects.filter(created_at__lt=now - REPLAY_WINDOW).delete()[0],
        "throttle": AuthThrottle.objects.filter(window_start__lt=now - KEEP_COUNTERS).delete()[0],
        "otp": OtpCode.objects.filter(Q(used_at__isnull=False) | Q(expires_at__lt=now)).delete()[0],
    }
