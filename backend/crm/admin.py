from django.contrib import admin

from audit.admin import ConflictResolution, OwnershipActions
from backend.crm.imports import ContactResource, CustomerResource, SpreadsheetImportAdmin
from backend.crm.models import (
    Activity,
    Contact,
    Customer,
    DuplicateConflict,
    Opportunity,
    Stage,
    StageEntry,
    Tag,
    Tip,
    TipComment,
)
from backend.org.admin import ScopedAdmin


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "title", "phone", "buying_role", "is_key")


@admin.register(Customer)
class CustomerAdmin(SpreadsheetImportAdmin, OwnershipActions, ScopedAdmin):
    resource_classes = [CustomerResource]
    list_display = ("name", "phone", "owner", "region", "is_key_account", "updated_at")
    list_filter = ("is_key_account", "region", "owner__branch")
    search_fields = ("name", "phone", "name_key")
    autocomplete_fields = ("owner",)
    readonly_fields = ("name_key", "version")
    filter_horizontal = ("shared_with",)
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(SpreadsheetImportAdmin, ScopedAdmin):
    resource_classes = [ContactResource]
    list_display = ("name", "customer", "buying_role", "is_key", "phone")
    list_filter = ("buying_role", "is_key")
    search_fields = ("name", "phone", "customer__name")


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ("division", "order", "name", "probability", "usual_days")
    list_filter = ("division",)


class StageEntryInline(admin.TabularInline):
    model = StageEntry
    extra = 0
    readonly_fields = ("stage", "entered_at", "left_at", "by")


@admin.register(Opportunity)
class OpportunityAdmin(ScopedAdmin):
    list_display = ("name", "customer", "owner", "stage", "amount", "status", "expected_close")
    list_filter = ("status", "stage__division", "stage")
    search_fields = ("name", "customer__name")
    date_hierarchy = "expected_close"
    inlines = [StageEntryInline]


@admin.register(Activity)
class ActivityAdmin(ScopedAdmin):
    list_display = ("occurred_at", "kind", "customer", "rep", "channel", "location_flag", "reference", "voided_at")
    list_filter = ("kind", "channel", "location_flag")
    search_fields = ("customer__name", "note", "reference")
    date_hierarchy = "occurred_at"


@admin.register(Tip)
class TipAdmin(ScopedAdmin):
    list_display = ("title", "author", "competitor", "created_at")
    search_fields = ("title", "body", "competitor")
    list_filter = ("tags",)


admin.site.register(Tag)
admin.site.register(TipComment)


@admin.register(DuplicateConflict)
class DuplicateConflictAdmin(ConflictResolution, ScopedAdmin):
    list_display = ("created_at", "existing", "candidate", "reported_by", "source", "matched_on", "status")
    list_filter = ("status", "source", "matched_on")
    search_fields = ("existing__name",)
