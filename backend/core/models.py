import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from backend.core.sync import SyncStampField


class TimeStamped(models.Model):
    """Client-made UUIDs are accepted as primary keys, so offline clients can create records."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Position in commit order, for offline clients' sync (backend/core/sync.py).
    sync_stamp = SyncStampField()

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs) -> None:
        # A partial save is still a change a client must pull.
        if update_fields:
            update_fields = {*update_fields, "sync_stamp"}
        super().save(*args, update_fields=update_fields, **kwargs)


class SyncClock(models.Model):
    """SQLite only: the counter behind `sync_stamp` (PostgreSQL uses transaction ids)."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.value)


class Tombstone(models.Model):
    """A row that left `user`'s sight (deleted, handed over, unshared): their next sync drops it."""

    model = models.CharField(max_length=64)  # app_label.model, e.g. crm.customer
    object_id = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sync_stamp = SyncStampField()

    class Meta:
        indexes = [models.Index(fields=["user", "sync_stamp"])]

    def __str__(self) -> str:
        return f"{self.model} {self.object_id} left {self.user_id}"


class FieldReport(models.Model):
    """One report from the field (a sale of n units, a visit, a shipment) and its short
    reference, quoted back to the sender and accepted by UNDO. The autoincrement id makes
    references unique without a lock."""

    class Kind(models.TextChoices):
        SALE = "S", "Sale"
        VISIT = "V", "Visit"
        SHIPMENT = "H", "Shipment"

    kind = models.CharField(max_length=1, choices=Kind.choices)
    reporter = models.ForeignKey("org.User", null=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["reporter", "created_at"])]

    # References start at four digits so they read like references, not counters.
    OFFSET = 1000

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"{self.kind}{self.pk + self.OFFSET}"

    @classmethod
    def pk_from_reference(cls, reference: str) -> tuple[str, int] | None:
        kind, digits = reference[:1].upper(), reference[1:]
        if kind not in cls.Kind.values or not digits.isdigit():
            return None
        return kind, int(digits) - cls.OFFSET
