from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.context import Door
from audit.history import history
from backend.core.models import TimeStamped
from backend.crm.normalise import name_key
from backend.org.models import Division, Region

User = settings.AUTH_USER_MODEL


class Customer(TimeStamped):
    """A company or person the sales force sells to. Owned by exactly one rep at a time."""

    name = models.CharField(max_length=200)
    # Normalised forms are what duplicate search compares, company-wide.
    name_key = models.CharField(max_length=200, db_index=True, editable=False)
    phone = models.CharField(max_length=20, null=True, blank=True, db_index=True)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="customers")
    shared_with = models.ManyToManyField(User, blank=True, related_name="shared_customers")
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    address = models.CharField(max_length=300, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    is_key_account = models.BooleanField(default=False)
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    # A duplicate merged into another record is kept (nothing is deleted) but leaves every list.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from", editable=False
    )
    history = history(m2m_fields=[shared_with], indexed=["owner"])  # audit.selectors: customers a rep once owned

    scope_owner = "owner"
    scope_shared = "shared_with"

    class Meta:
        indexes = [models.Index(fields=["owner", "updated_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__isnull=True) | Q(phone__startswith="+"), name="customer_phone_e164"
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="customer_latitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Kept in step on every path (services, admin, imports), so duplicate search never misses.
        self.name_key = name_key(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key"}
        super().save(*args, **kwargs)


class BuyingRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")


class Contact(TimeStamped):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, null=True, blank=True, db_index=True)
    buying_role = models.CharField(max_length=20, choices=BuyingRole.choices, default=BuyingRole.USER)
    is_key = models.BooleanField(default=False, help_text=_("Key contact rather than general"))
    purchase_criteria = models.TextField(blank=True)
    last_contacted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    history = history()

    scope_owner = "customer__owner"
    scope_shared = "customer__shared_with"

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    """One step of a division's sales methodology."""

    division = models.ForeignKey(Division, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField()
    probability = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    entry_criteria = models.TextField(blank=True)
    usual_days = models.PositiveSmallIntegerField(default=14, help_text=_("Typical days spent in this stage"))
    history = history()

    class Meta:
        ordering = ["division", "order"]
        constraints = [
            models.UniqueConstraint(fields=["division", "order"], name="stage_order_unique"),
            models.UniqueConstraint(fields=["division", "name"], name="stage_name_unique"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.division}: {self.name} ({self.probability}%)"


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    ABANDONED = "abandoned", _("Abandoned")


class Opportunity(TimeStamped):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="opportunities")
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="opportunities")
    name = models.CharField(max_length=200)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities")
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    expected_close = models.DateField(null=True, blank=True)
    next_step = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=OpportunityStatus.choices, default=OpportunityStatus.OPEN)
    close_reason = models.CharField(max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    stage_entered_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    history = history()

    scope_owner = "owner"

    class Meta:
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["status", "expected_close"]),
            models.Index(fields=["closed_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "won"]) | ~Q(close_reason=""),
                name="opportunity_lost_needs_reason",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True) | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="opportunity_closed_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StageEntry(models.Model):
    """When an opportunity entered each stage: time in stage and conversion come from here."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_entries")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["stage", "entered_at"]), models.Index(fields=["entered_at"])]
        verbose_name_plural = "stage entries"

    def __str__(self) -> str:
        return f"{self.opportunity} → {self.stage}"


class ActivityKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    NOTE = "note", _("Note")


class LocationFlag(models.TextChoices):
    NONE = "", _("No location")
    OK = "ok", _("At the customer")
    FAR = "far", _("Far from the customer")
    STALE = "stale", _("Stale location fix")
    SUSPICIOUS = "suspicious", _("Suspicious location fix")


class Activity(TimeStamped):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="activities")
    rep = models.ForeignKey(User, on_delete=models.PROTECT, related_name="activities")
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    kind = models.CharField(max_length=16, choices=ActivityKind.choices, default=ActivityKind.VISIT)
    channel = models.CharField(max_length=16, choices=Door.choices, default=Door.APP)
    note = models.TextField(blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    location_accuracy_m = models.FloatField(null=True, blank=True)
    location_fixed_at = models.DateTimeField(null=True, blank=True)
    location_flag = models.CharField(max_length=16, choices=LocationFlag.choices, default=LocationFlag.NONE, blank=True)
    distance_m = models.FloatField(null=True, blank=True)
    reference = models.CharField(max_length=16, blank=True, db_index=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    history = history()

    scope_owner = "rep"

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["rep", "occurred_at"]),
            models.Index(fields=["customer", "occurred_at"]),
            # Stalled deals: a deal's latest activity, and its customer's latest naming no deal.
            models.Index(fields=["opportunity", "occurred_at"], name="activity_deal_latest",
                         condition=Q(voided_at__isnull=True)),
            models.Index(fields=["customer", "occurred_at"], name="activity_customer_latest",
                         condition=Q(opportunity__isnull=True, voided_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.customer} {self.occurred_at:%Y-%m-%d}"


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class Tip(TimeStamped):
    """A rep's way to win, shared so others can rate, comment and reuse it."""

    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="tips")
    title = models.CharField(max_length=200)
    body = models.TextField()
    competitor = models.CharField(max_length=100, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tips")
    history = history(m2m_fields=[tags])

    scope_company_wide = True

    def __str__(self) -> str:
        return self.title


class TipRating(models.Model):
    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    stars = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tip", "user"], name="tip_rating_once_per_user"),
            models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="tip_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.tip}: {self.stars}★"


class TipComment(TimeStamped):
    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    history = history()

    scope_company_wide = True

    def __str__(self) -> str:
        return self.body[:50]


class TipUse(models.Model):
    """A rep used a tip on a deal; how those deals end ranks the tip."""

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="uses")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="tip_uses")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tip", "opportunity"], name="tip_used_once_per_deal")]

    def __str__(self) -> str:
        return f"{self.tip} used on {self.opportunity}"


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MERGED = "merged", _("Merged")
    ASSIGNED = "assigned", _("Assigned to one owner")
    DISMISSED = "dismissed", _("Dismissed as distinct")


class DuplicateConflict(TimeStamped):
    """Two reps appear to work the same customer. Only managers see both sides."""

    existing = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="conflicts_as_existing")
    # The second record when there is one (a sale to another rep's customer, an import row that
    # was created anyway); otherwise what the rep tried to save is kept in `proposed`.
    candidate = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="conflicts_as_candidate"
    )
    proposed = models.JSONField(default=dict, blank=True)
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=[*Door.choices, ("import", "Import")])
    matched_on = models.CharField(max_length=16)  # "phone" or "name"
    status = models.CharField(max_length=16, choices=ConflictStatus.choices, default=ConflictStatus.OPEN, db_index=True)
    resolved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.CharField(max_length=300, blank=True)
    history = history()

    # Scoped by the rep who ran into it: their manager's team sees it.
    scope_owner = "reported_by"

    def __str__(self) -> str:
        return f"conflict {self.pk} ({self.matched_on})"
