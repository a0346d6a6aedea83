"""What the read side keeps: forecast snapshots, alerts, and roll-ups of sales and shipments.

The roll-ups hold complete days, weeks, months and quarters (shipments: months), (re)built by
`services.rollup_refresh`; today (and any period not rolled up yet) is always aggregated live,
so the dashboard shows a sale seconds after the text arrives while three years of history stay
cheap.
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
    """The periods rolled up, shortest first. A figure's range is made of the longest complete
    periods that fit it: a year of sales is a few quarters and months, a few weeks and days."""

    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class RollupPeriod(models.Model):
    """A complete day, week, month or quarter whose roll-up rows are built, and when: sales or
    rewards (for a month also shipments or their orders) changed after that make it rebuild."""

    grain = models.CharField(max_length=7, choices=Grain.choices)
    start = models.DateField()
    built_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grain", "start"], name="rollup_period_once")]

    def __str__(self) -> str:
        return f"{self.grain} {self.start}"


class PeriodTotals(models.Model):
    grain = models.CharField(max_length=7, choices=Grain.choices)
    period = models.DateField(help_text="The day, or the first day of the week, month or quarter")
    units = models.PositiveIntegerField()
    revenue = models.DecimalField(max_digits=18, decimal_places=2)
    cost = models.DecimalField(max_digits=18, decimal_places=2)
    reward = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        abstract = True


class RepProductTotals(PeriodTotals):
    """Valid sales of one rep and product in one complete period."""

    rep = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("sales.Product", on_delete=models.CASCADE, related_name="+")

    scope_owner = "rep"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grain", "period", "rep", "product"], name="rollup_rep_product_once"),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.period} {self.rep_id} {self.product_id}: {self.units}"


class RepTotals(PeriodTotals):
    """Valid sales of one rep in one complete period: what the figures grouped by rep,
    branch or region (or not grouped) read, a few hundred rows a month where the rows per
    product are thousands."""

    rep = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

    scope_owner = "rep"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grain", "period", "rep"], name="rollup_rep_once")]

    def __str__(self) -> str:
        return f"{self.grain} {self.period} {self.rep_id}: {self.units}"


class CustomerTotals(PeriodTotals):
    """Valid sales to one customer in one complete period."""

    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grain", "period", "customer"], name="rollup_customer_once")]
        # A manager's customers: their rows, not every customer's rows of the period.
        indexes = [models.Index(fields=["customer", "grain", "period"])]

    def __str__(self) -> str:
        return f"{self.grain} {self.period} {self.customer_id}: {self.units}"


class FulfilmentTotals(models.Model):
    """Received shipments of one rep's orders shipped in one complete month: how many, and the
    sums of their durations, which the order-to-receipt figures divide into averages."""

    period = models.DateField(help_text="First day of the month shipped")
    rep = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    shipments = models.PositiveIntegerField()
    order_to_ship = models.DurationField()
    told = models.PositiveIntegerField(help_text="Shipments whose customer was told")
    ship_to_told = models.DurationField()
    ship_to_receipt = models.DurationField()
    order_to_receipt = models.DurationField()

    scope_owner = "rep"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "rep"], name="rollup_fulfilment_once")]

    def __str__(self) -> str:
        return f"{self.period} {self.rep_id}: {self.shipments}"
