from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from backend.org.admin import ScopedAdmin
from backend.sales.models import Order, OrderLine, Product, Reward, RewardRule, Sale, Shipment


class RewardRuleInline(admin.TabularInline):
    model = RewardRule
    extra = 0


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin):
    """The catalogue: everyone who may open the admin sees all of it."""

    list_display = ("code", "name", "division", "serial_rule", "price", "cost", "is_active")
    list_filter = ("division", "serial_rule", "is_active")
    search_fields = ("code", "name")
    inlines = [RewardRuleInline]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0


class ShipmentInline(admin.TabularInline):
    model = Shipment
    extra = 0
    fields = ("carrier", "tracking", "eta", "shipped_at", "rep_notified_at", "customer_told_at", "received_at")


@admin.register(Order)
class OrderAdmin(ScopedAdmin):
    list_display = ("number", "customer", "rep", "status", "amount", "ordered_at", "due_date", "paid_date")
    list_filter = ("status", "rep__branch")
    search_fields = ("number", "customer__name")
    date_hierarchy = "ordered_at"
    inlines = [OrderLineInline, ShipmentInline]


@admin.register(Shipment)
class ShipmentAdmin(ScopedAdmin):
    list_display = ("order", "carrier", "tracking", "eta", "shipped_at", "customer_told_at", "received_at")
    list_filter = ("carrier", "channel")
    search_fields = ("order__number", "tracking")
    date_hierarchy = "shipped_at"


@admin.register(Sale)
class SaleAdmin(ScopedAdmin):
    list_display = ("reference", "sold_at", "product", "serial", "rep", "customer", "channel", "voided_at")
    list_filter = ("product", "channel", "rep__branch")
    search_fields = ("reference", "serial", "customer__name")
    date_hierarchy = "sold_at"


@admin.register(Reward)
class RewardAdmin(ScopedAdmin):
    list_display = ("sale", "rep", "amount", "status", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("sale__reference", "sale__serial")
    actions = ["approve"]

    @admin.action(description="Approve the selected rewards")
    def approve(self, request, queryset):
        from backend.sales.services import rewards_approve

        count = rewards_approve(rewards=queryset, by=request.user)
        self.message_user(request, f"{count} rewards approved.")
