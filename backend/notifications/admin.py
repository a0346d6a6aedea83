from django.contrib import admin

from backend.notifications.models import Notification
from backend.org.admin import ScopedAdmin


@admin.register(Notification)
class NotificationAdmin(ScopedAdmin):
    list_display = ("created_at", "recipient", "kind", "text", "read_at")
    list_filter = ("kind",)
    search_fields = ("recipient__username", "text")
    date_hierarchy = "created_at"
