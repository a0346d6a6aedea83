"""STOP and START, per number. Only replies reach a number that opted out."""

from django.db import transaction
from django.utils import timezone

from sms_gateway.models import OptOut


def is_opted_out(phone: str) -> bool:
    return OptOut.objects.filter(phone=phone, is_active=True).exists()


@transaction.atomic
def optout_set(*, phone: str, active: bool, source: str) -> OptOut:
    """Record STOP (`active=True`) or START; a repeat changes nothing and writes no history."""
    optout, created = OptOut.objects.select_for_update().get_or_create(
        phone=phone, defaults={"is_active": active, "source": source}
    )
    if not created and optout.is_active != active:
        optout.is_active, optout.source, optout.changed_at = active, source, timezone.now()
        optout.save(update_fields=["is_active", "source", "changed_at"])
    return optout
