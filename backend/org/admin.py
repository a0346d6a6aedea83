from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from backend.org.models import ApiKey, Branch, Device, Division, Region, User
from backend.org.scoping import scope, visible_users


class ScopedAdmin(SimpleHistoryAdmin):
    """Admin whose rows are those the signed-in person may see (the one scoping rule)."""

    # The history page says through which door each change came (sms, app, admin, api key, system).
    history_list_display = ["door"]

    def door(self, record: Any) -> str:
        key = record.history_api_key_name
        return f"{record.get_history_door_display()}: {key}" if key else record.get_history_door_display()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope(super().get_queryset(request), request.user)


@admin.register(Division)
class DivisionAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Region)
class RegionAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Branch)
class BranchAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "region")
    list_filter = ("region",)
    search_fields = ("code", "name")


@admin.register(User)
class UserAdmin(BaseUserAdmin, SimpleHistoryAdmin):
    list_display = ("username", "get_full_name", "role", "branch", "manager", "phone", "is_active")
    list_filter = ("role", "branch", "division", "is_active", "preferred_language")
    search_fields = ("username", "first_name", "last_name", "phone")
    autocomplete_fields = ("manager",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Fieldline", {"fields": ("phone", "role", "branch", "division", "manager", "preferred_language")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(pk__in=visible_users(request.user).values("pk"))


@admin.register(Device)
class DeviceAdmin(SimpleHistoryAdmin):
    list_display = ("user", "name", "created_at", "last_seen_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "name")
    readonly_fields = ("token_hash",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(user__in=visible_users(request.user))


@admin.register(ApiKey)
class ApiKeyAdmin(SimpleHistoryAdmin):
    list_display = ("name", "role", "created_at", "revoked_at")
    readonly_fields = ("key_hash",)
