"""The admin side of ownership: handovers (with a form that runs the handover service), the
ownership timeline as a page and as CSV, and resolving duplicate conflicts. The customer and
conflict admins of `backend.crm` mix in `OwnershipActions` and `ConflictResolution`."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import Handover, HandoverItem
from audit.selectors import handover_items, ownership_dataset, ownership_timeline
from audit.services import handover_create
from backend.core.errors import ApplicationError
from backend.crm.models import Customer
from backend.crm.selectors import conflict_list, conflict_sides, customer_list
from backend.crm.services import conflict_assign, conflict_dismiss, conflict_merge
from backend.org.models import Role
from backend.org.scoping import scope, sees_everything, visible_users


def may_hand_over(user: Any) -> bool:
    return bool(user.is_active and (sees_everything(user) or user.role == Role.MANAGER))


class HandoverForm(forms.Form):
    from_user = forms.ModelChoiceField(
        queryset=None, required=False, label=gettext_lazy("Every customer of"),
        help_text=gettext_lazy("Hand over all of this rep's customers (or choose customers below)."),
    )
    customers = forms.ModelMultipleChoiceField(queryset=None, required=False, label=gettext_lazy("Customers"))
    to = forms.ModelMultipleChoiceField(
        queryset=None, label=gettext_lazy("New owners"),
        help_text=gettext_lazy("Several reps: the customers are dealt to them in turn."),
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=gettext_lazy("Reason"))

    def __init__(self, *args: Any, by: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        reps = visible_users(by).filter(role=Role.REP, is_active=True).order_by("username")
        self.fields["from_user"].queryset = reps
        self.fields["to"].queryset = reps
        self.fields["customers"].queryset = customer_list(user=by).order_by("name")

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("from_user") and not data.get("customers"):
            raise forms.ValidationError(_("Choose the customers, or the rep whose customers move."))
        return data


class HandoverItemInline(admin.TabularInline):
    model = HandoverItem
    extra = 0
    fields = readonly_fields = ("customer", "from_user", "to_user", "moved")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Handover)
class HandoverAdmin(admin.ModelAdmin):
    """Read-only records; adding one runs the handover service (the same as the API's)."""

    list_display = ("created_at", "by", "door", "reason", "customer_count")
    search_fields = ("reason", "items__customer__name", "items__from_user__username", "items__to_user__username")
    date_hierarchy = "created_at"
    fields = readonly_fields = ("created_at", "by", "door", "reason")
    inlines = [HandoverItemInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        mine = handover_items(user=request.user).values("handover")
        return super().get_queryset(request).filter(pk__in=mine).select_related("by")

    @admin.display(description=gettext_lazy("customers"))
    def customer_count(self, handover: Handover) -> int:
        return handover.items.count()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_hand_over(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_staff

    def get_urls(self) -> list:
        ownership = path("ownership/", self.admin_site.admin_view(self.ownership_view), name="audit_ownership")
        return [ownership, *super().get_urls()]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:audit_handover_changelist"))
        initial = {"customers": [pk for pk in request.GET.get("customers", "").split(",") if pk]}
        form = HandoverForm(request.POST or None, by=request.user, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                made = handover_create(
                    by=request.user, reason=form.cleaned_data["reason"], to=list(form.cleaned_data["to"]),
                    customers=list(form.cleaned_data["customers"]) or None, from_user=form.cleaned_data["from_user"],
                )
            except ApplicationError as error:
                form.add_error(None, str(error.message))
            else:
                self.message_user(request, _("%(count)d customer(s) handed over.") % {"count": made.items.count()})
                return HttpResponseRedirect(reverse("admin:audit_handover_change", args=[made.pk]))
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
            "title": _("Hand customers over"),
        }
        return TemplateResponse(request, "admin/audit/handover/handover_form.html", context)

    def ownership_view(self, request: HttpRequest) -> HttpResponse:
        """Ownership periods of the customers in `?customers=` (ids), in the caller's sight;
        `&format=csv` downloads them."""
        ids = [pk for pk in request.GET.get("customers", "").split(",") if pk]
        customers = scope(Customer.objects.filter(pk__in=ids), request.user)
        lines = ownership_timeline(customers=customers)
        if request.GET.get("format") == "csv":
            response = HttpResponse(ownership_dataset(lines).export("csv"), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="ownership.csv"'
            return response
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "lines": lines,
            "title": _("Ownership over time"), "csv_query": request.GET.urlencode() + "&format=csv",
        }
        return TemplateResponse(request, "admin/audit/handover/ownership.html", context)


class OwnershipActions:
    """For the customer admin: hand the selected customers over; see or export who owned them."""

    actions = ["hand_over", "show_ownership", "export_ownership"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple:
        # An owner changes only by a handover: open work moves, the old owner's phone is told.
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "owner") if obj is not None else fields

    @admin.action(description=gettext_lazy("Hand selected customers over"))
    def hand_over(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(f"{reverse('admin:audit_handover_add')}?customers={ids}")

    @admin.action(description=gettext_lazy("Show ownership over time"))
    def show_ownership(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(f"{reverse('admin:audit_ownership')}?customers={ids}")

    @admin.action(description=gettext_lazy("Export ownership over time (CSV)"))
    def export_ownership(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(f"{reverse('admin:audit_ownership')}?customers={ids}&format=csv")


class ConflictResolution:
    """For the conflict admin: the managers' list (either side in their team), both records side
    by side on the detail page, and merge / dismiss as actions (assign: hand the customer over)."""

    actions = ["merge_keep_existing", "merge_keep_candidate", "assign_to_existing_owner", "assign_to_reporter",
               "dismiss_as_distinct"]
    readonly_fields = ("side_by_side",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        if not may_hand_over(request.user):
            return super().get_queryset(request).none()
        return conflict_list(user=request.user)

    @admin.display(description=gettext_lazy("Both records"))
    def side_by_side(self, conflict: Any) -> str:
        return render_to_string("admin/audit/conflict_sides.html", conflict_sides(conflict))

    def _resolve(self, request: HttpRequest, queryset: QuerySet, resolve: Any) -> None:
        done = 0
        for conflict in queryset:
            try:
                resolve(conflict)
                done += 1
            except ApplicationError as error:
                self.message_user(request, f"{conflict}: {error.message}", messages.WARNING)
        self.message_user(request, _("%(count)d conflict(s) resolved.") % {"count": done})

    @admin.action(description=gettext_lazy("Merge: keep the existing record"))
    def merge_keep_existing(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve(request, queryset, lambda c: conflict_merge(by=request.user, conflict=c, keep="existing"))

    @admin.action(description=gettext_lazy("Merge: keep the candidate record"))
    def merge_keep_candidate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve(request, queryset, lambda c: conflict_merge(by=request.user, conflict=c, keep="candidate"))

    @admin.action(description=gettext_lazy("Assign: the existing customer's owner keeps it"))
    def assign_to_existing_owner(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve(request, queryset, lambda c: conflict_assign(by=request.user, conflict=c, owner=c.existing.owner))

    @admin.action(description=gettext_lazy("Assign: the rep who ran into it takes it"))
    def assign_to_reporter(self, request: HttpRequest, queryset: QuerySet) -> None:
        def to_reporter(conflict: Any) -> Any:
            rep = conflict.candidate.owner if conflict.candidate else conflict.reported_by
            return conflict_assign(by=request.user, conflict=conflict, owner=rep)

        self._resolve(request, queryset, to_reporter)

    @admin.action(description=gettext_lazy("Dismiss: distinct customers"))
    def dismiss_as_distinct(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve(request, queryset, lambda c: conflict_dismiss(by=request.user, conflict=c))
