"""Rate limits kept in the database with atomic counters (see `AuthThrottle`)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mobile_api.models import AuthThrottle


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


def throttle_hit(*, scope: str, key: str, limit: int, window: timedelta) -> bool:
    """Count one more event for (scope, key) in the current window; False when over `limit`.
    The UPDATE takes the row lock, so concurrent hits are counted one by one."""
    start = _window_start(timezone.now(), window)
    with transaction.atomic():
        row, _created = AuthThrottle.objects.get_or_create(scope=scope, key=key, window_start=start)
        AuthThrottle.objects.filter(pk=row.pk).update(count=F("count") + 1)
        count = AuthThrottle.objects.filter(pk=row.pk).values_list("count", flat=True).get()
    return count <= limit

