"""What the app's door keeps for itself: sign-in codes, rate-limit counters, idempotent replies."""

from django.conf import settings
from django.db import models


class OtpCode(models.Model):
    """A one-time sign-in code sent by SMS, stored only as a keyed hash (6 digits are few: a plain
    hash of a stolen table would be reversed in a second; the key is the SECRET_KEY)."""

    phone = models.CharField(max_length=20, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone", "created_at"])]

    def __str__(self) -> str:
        return f"code for {self.phone} at {self.created_at:%Y-%m-%d %H:%M}"


class AuthThrottle(models.Model):
    """One counter per scope, key and fixed time window, bumped with an atomic UPDATE: a limit
    that holds across processes and restarts (a cache entry can be evicted or raced)."""

    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=128)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key", "window_start"], name="auth_throttle_window_once")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} {self.window_start:%H:%M}: {self.count}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST with an `Idempotency-Key`, replayed for 24 hours."""

    principal = models.CharField(max_length=64)  # device:<id> or api_key:<id>
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # method, path and body of the first call
    status = models.PositiveSmallIntegerField()
    body = models.BinaryField()
    content_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_once_per_principal")
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"
