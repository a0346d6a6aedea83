"""Every text in and out is kept: inbound messages with what they did, outbound messages with
their delivery, and the numbers that said STOP."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.history import history


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")


class InboundMessage(models.Model):
    """A text as it arrived, stored before anything else happens to it."""

    provider = models.CharField(max_length=16, default="twilio")
    provider_id = models.CharField(max_length=64, unique=True, help_text=_("Twilio MessageSid: a retry repeats it"))
    sender = models.CharField(max_length=32, help_text=_("The From number, E.164 when it parses"))
    to = models.CharField(max_length=32, blank=True)
    body = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=16, choices=InboundStatus.choices, default=InboundStatus.RECEIVED)
    error = models.TextField(blank=True, help_text=_("Why it was rejected (a code) or how it failed"))
    reply = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    reference = models.CharField(max_length=16, blank=True)
    created_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_id = models.CharField(max_length=64, blank=True)
    created_object = GenericForeignKey("created_type", "created_id")

    scope_owner = "user"

    class Meta:
        # What is read: by MessageSid, by sender in a window (the flood limit), by status (the
        # sweeper), by date, by user. Each index is written twice a text (stored, then finished):
        # nothing else is indexed.
        indexes = [
            models.Index(fields=["sender", "received_at"]),
            models.Index(fields=["status", "received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.body[:40]}"


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    UNDELIVERED = "undelivered", _("Undelivered")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Suppressed (opted out)")
    SENT_INLINE = "sent_inline", _("Answered in the webhook")


class OutboundMessage(models.Model):
    """A text we send, stored in the transaction of the change that caused it."""

    to = models.CharField(max_length=32, db_index=True)
    body = models.TextField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=32)
    is_reply = models.BooleanField(default=False)
    in_reply_to = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    related_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    related_id = models.CharField(max_length=64, blank=True)
    related = GenericForeignKey("related_type", "related_id")
    status = models.CharField(max_length=16, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED)
    segments = models.PositiveSmallIntegerField(default=1)
    provider = models.CharField(max_length=16, blank=True)
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    provider_status = models.CharField(max_length=16, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=16, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    scope_owner = "user"

    class Meta:
        # What is read: by status (the sweeper), by number, by date.
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"→ {self.to}: {self.body[:40]}"


class OptOut(models.Model):
    """A number that texted STOP (or that the provider reports as unsubscribed). Only replies
    reach it until it texts START."""

    phone = models.CharField(max_length=32, unique=True)
    is_active = models.BooleanField(default=True)
    source = models.CharField(max_length=16, help_text=_("keyword, or the provider's error"))
    changed_at = models.DateTimeField(default=timezone.now)
    history = history()

    def __str__(self) -> str:
        return f"{self.phone} ({'out' if self.is_active else 'in'})"
