from django.conf import settings
from django.db import models

from backend.core.models import TimeStamped


class Notification(TimeStamped):
    """Something a person was told. The inbox and sync read these; the push is only a hint."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, db_index=True)
    text = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    scope_owner = "recipient"

    class Meta:
        indexes = [models.Index(fields=["recipient", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient}"
