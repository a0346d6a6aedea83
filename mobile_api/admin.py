"""Read-only views of the door's own bookkeeping, for support staff. Codes are never shown."""

from django.contrib import admin
from django.http import HttpRequest

from mobile_api.models import AuthThrottle, IdempotencyRecord, OtpCode


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OtpCode)
class OtpCodeAdmin(ReadOnly):
    list_display = ("phone", "user", "created_at", "expires_at", "attempts", "used_at")
    search_fields = ("phone",)
    exclude = ("code_hash",)


@admin.register(AuthThrottle)
class AuthThrottleAdmin(ReadOnly):
    list_display = ("scope", "key", "window_start", "count")
    list_filter = ("scope",)
    search_fields = ("key",)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnly):
    list_display = ("principal", "key", "status", "created_at")
    search_fields = ("principal", "key")
    exclude = ("body",)
