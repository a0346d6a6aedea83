"""STOP and START, per number. Only replies reach a number that opted out."""

from collections.abc import Iterable

from django.db import connections, router, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from sms_gateway.models import OptOut, OutboundMessage


def opted_out_to() -> Exists:
    """For a query of texts: whether the number each goes `to` texted STOP (no query of its own)."""
    return Exists(OptOut.objects.filter(phone=OuterRef("to"), is_active=True))


def not_opted_out_sql() -> str:
    """`opted_out_to`, negated and written out as SQL, for a statement about one text of the
    outbound table (`backend.core.queries.update_row`)."""
    connection = connections[router.db_for_write(OutboundMessage)]
    quote = connection.ops.quote_name
    column = OptOut._meta.get_field
    to = f"{quote(OutboundMessage._meta.db_table)}.{quote(OutboundMessage._meta.get_field('to').column)}"
    return (
        f"NOT EXISTS (SELECT 1 FROM {quote(OptOut._meta.db_table)} o "  # noqa: S608  (names from the models)
        f"WHERE o.{quote(column('phone').column)} = {to} AND o.{quote(column('is_active').column)})"
    )


def opted_out(phones: Iterable[str]) -> set[str]:
    """The numbers among `phones` that texted STOP (one query)."""
    phones = set(phones)
    if not phones:
        return set()
    return set(OptOut.objects.filter(phone__in=phones, is_active=True).values_list("phone", flat=True))


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
