"""What the read side keeps: forecast snapshots, alerts, and roll-ups of sales.

The roll-ups hold complete days and complete months, (re)built by `services.rollup_refresh`;
today (and any period not rolled up yet) is always aggregated live from the sales, so the
dashboard shows a sale seconds after the text arrives while three years of history stay cheap.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _

from backend.core.models import TimeStamped

User = settings.AUTH_USER_MODEL


class ForecastSnapshot(models.Model):
    """A rep's weighted forecast (amount x stage probability) for one month, taken when the
    month starts, so it can later be compared with what actually closed."""

    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    period = models.DateField(help_text="First day of the forecast month")
    weighted = models.DecimalField(max_digits=16, decimal_places=2)
    pipeline = models.DecimalField(max_digits=16, decimal_places=2)
    deals = models.PositiveIntegerField()
    taken_at = models.DateTimeField(auto_now_add=True)

    scope_owner = "owner"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "period"], name="forecast_snapshot_once")]
        indexes = [models.Index(fields=["period", "owner"])]

    def __str__(self) -> str:
        return f"{self.owner} {self.period:%Y-%m}: {self.weighted}"


class AlertKind(models.TextChoices):
    FALLING_ACCOUNT = "falling_account", "Key account falling"
    STALLED_DEAL = "stalled_deal", "Stalled deal"
    STAKEHOLDER_GAP = "stakeholder_gap", "Stakeholder gap"
    DIGEST = "digest", "Morning digest"


class Alert(TimeStamped):
    """Something the system flagged. Unique per kind, subject and period: a job that runs again
    (or twice at once) never flags the same thing twice in the same month or week."""

    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    subject = models.CharField(max_length=64, help_text="Primary key of what the alert is about")
    period = models.CharField(max_length=16, help_text="2025-06, 2025-W23 or 2025-06-01")
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", help_text="Whose it is")
    customer = models.ForeignKey("crm.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(
        "crm.Opportunity", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    scope_owner = "owner"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "subject", "period"], name="alert_once_per_period")]
        indexes = [models.Index(fields=["owner", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} {self.period}"

    @property
    def message(self) -> str:
        """The alert in the active language (each reader gets their own)."""
        data = self.data
        if self.kind == AlertKind.FALLING_ACCOUNT:
            return _("%(customer)s: monthly units %(series)s (%(reason)s)") % {
                "customer": data.get("customer", ""), "series": "→".join(str(n) for n in data.get("units", [])),
                "reason": _("sharp drop") if data.get("reason") == "sharp_drop" else _("falling"),
            }
        if self.kind == AlertKind.STALLED_DEAL:
            return _("%(deal)s stalled: %(idle)s days without activity, %(days)s days in %(stage)s") % data
        if self.kind == AlertKind.STAKEHOLDER_GAP:
            return _("%(deal)s: decision maker not contacted for %(days)s days") % {
                "deal": data.get("deal", ""), "days": data.get("days") or "60+",
            }
        return data.get("text", "")


class Grain(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"


class RollupPeriod(models.Model):
    """A complete day or month whose roll-up rows are built, and when: sales or rewards changed
    after that make it rebuild."""

    grain = models.CharField(max_length=5, choices=Grain.choices)
    start = models.DateField()
    built_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grain", "start"], name="rollup_period_once")]

    def __str__(self) -> str:
        return f"{self.grain} {self.start}"


class PeriodTotals(models.Model):
    grain = models.CharField(max_length=5, choices=Grain.choices)
    period = models.DateField(help_text="The day, or the first day of the month")
    units = models.PositiveIntegerField()
    revenue = models.DecimalField(max_digits=18, decimal_places=2)
    cost = models.DecimalField(max_digits=18, decimal_places=2)
    reward = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        abstract = True


class RepProductTotals(PeriodTotals):
    """Valid sales of one rep and product in one complete day or month."""

    rep = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("sales.Product", on_delete=models.CASCADE, related_name="+")

    scope_owner = "rep"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grain", "period", "rep", "product"], name="rollup_rep_product_once"),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.period} {self.rep_id} {self.product_id}: {self.units}"


class CustomerTotals(PeriodTotals):
    """Valid sales to one customer in one complete day or month."""

    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grain", "period", "customer"], name="rollup_customer_once")]

    def __str__(self) -> str:
        return f"{self.grain} {self.period} {self.customer_id}: {self.units}"
