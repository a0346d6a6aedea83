"""Handover records: who moved which customers from whom to whom, when, why, through which door.

Ownership periods are not stored here: they are derived from the customers' history rows.
A handover is itself an audit record and never changes after it is written, so it has no
history of its own.
"""

import uuid

from django.conf import settings
from django.db import models

from audit.context import Door


class Handover(models.Model):
    """One decision to move customers to other reps, with its reason."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handovers_made")
    door = models.CharField(max_length=16, choices=Door.choices)
    reason = models.TextField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} by {self.by}"


class HandoverItem(models.Model):
    """One customer of a handover, and the open work that moved with it."""

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="items")
    customer = models.ForeignKey("crm.Customer", on_delete=models.PROTECT, related_name="handover_items")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handed_over")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="received")
    # {"opportunities": [ids], "orders": [numbers], "shipments": [ids]}: what moved, as it was then.
    moved = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["customer", "handover"])]

    def __str__(self) -> str:
        return f"{self.customer}: {self.from_user} → {self.to_user}"
