"""Every text in and out, filterable by status, number and date, with what each one created.
A manager sees the texts of their team, an executive all (the one scoping rule)."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backend.org.scoping import scope
from sms_gateway.models import InboundMessage, OptOut, OutboundMessage, OutboundStatus
from sms_gateway.outbound import hand_over


class NumberFilter(admin.SimpleListFilter):
    """A text box: numbers are too many to list."""

    title = _("number")
    parameter_name = "number"
    template = "admin/sms_gateway/input_filter.html"
    field = "sender"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> tuple:
        return ((None, None),)  # the filter shows only when it has a lookup

    def choices(self, changelist):  # the template reads the current value and the other parameters
        yield {"value": self.value() or "", "query": changelist.get_filters_params(), "name": self.parameter_name}

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        return queryset.filter(**{f"{self.field}__contains": value}) if value else queryset


class ToNumberFilter(NumberFilter):
    field = "to"


def object_link(obj) -> str:
    if obj is None:
        return "-"
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(obj)
    return format_html('<a href="{}">{}: {}</a>', url, obj._meta.verbose_name, obj)


class ScopedMessageAdmin(admin.ModelAdmin):
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope(super().get_queryset(request), request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # texts come from phones and services, not from a form


@admin.register(InboundMessage)
class InboundMessageAdmin(ScopedMessageAdmin):
    list_display = ("received_at", "sender", "user", "body", "status", "error_code", "reference", "created")
    list_filter = ("status", NumberFilter, "received_at")
    search_fields = ("sender", "body", "reference", "provider_id")
    date_hierarchy = "received_at"
    list_select_related = ("user", "created_type")
    readonly_fields = [f.name for f in InboundMessage._meta.fields] + ["created"]
    fields = ("provider", "provider_id", "sender", "to", "user", "body", "received_at", "status", "error", "reply",
              "processed_at", "attempts", "reference", "created")

    @admin.display(description=_("error"))
    def error_code(self, message: InboundMessage) -> str:
        return message.error.splitlines()[0][:60] if message.error else ""

    @admin.display(description=_("created"))
    def created(self, message: InboundMessage) -> str:
        return object_link(message.created_object)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ScopedMessageAdmin):
    list_display = ("created_at", "to", "user", "kind", "body", "status", "segments", "attempts", "error_code")
    list_filter = ("status", "kind", "is_reply", ToNumberFilter, "created_at")
    search_fields = ("to", "body", "provider_sid")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = [f.name for f in OutboundMessage._meta.fields] + ["about"]
    exclude = ("related_type", "related_id")
    actions = ["send_again"]

    @admin.display(description=_("about"))
    def about(self, message: OutboundMessage) -> str:
        return object_link(message.related)

    @admin.action(description=_("Send the selected failed texts again"))
    def send_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.filter(status=OutboundStatus.FAILED).values_list("pk", flat=True))
        OutboundMessage.objects.filter(pk__in=ids, status=OutboundStatus.FAILED).update(
            status=OutboundStatus.QUEUED, attempts=0, next_attempt_at=None
        )
        hand_over(ids)
        self.message_user(request, _("%(count)s texts queued again.") % {"count": len(ids)})


@admin.register(OptOut)
class OptOutAdmin(SimpleHistoryAdmin):
    list_display = ("phone", "is_active", "source", "changed_at")
    list_filter = ("is_active", "source")
    search_fields = ("phone",)
