from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.context import Door
from audit.history import history
from backend.core.models import TimeStamped
from backend.crm.models import Customer
from backend.org.models import Division

User = settings.AUTH_USER_MODEL


class SerialRule(models.TextChoices):
    NONE = "none", _("No serial")
    VIN = "vin", _("VIN (17 characters, check digit)")
    FREE = "free", _("Any serial number")


class Product(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="products")
    serial_rule = models.CharField(max_length=8, choices=SerialRule.choices, default=SerialRule.NONE)
    price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    is_active = models.BooleanField(default=True)
    history = history()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z0-9-]+$"), name="product_code_upper"),
            models.CheckConstraint(condition=Q(price__gte=0, cost__gte=0), name="product_money_positive"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def requires_serial(self) -> bool:
        return self.serial_rule != SerialRule.NONE


class RewardRule(models.Model):
    """The reward per unit sold, valid over a period; the newest valid rule applies."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reward_rules")
    amount_per_unit = models.DecimalField(max_digits=10, decimal_places=2)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    history = history()

    class Meta:
        indexes = [models.Index(fields=["product", "valid_from"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount_per_unit__gte=0), name="reward_rule_positive"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="reward_rule_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.amount_per_unit} from {self.valid_from}"


class OrderStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    SHIPPED = "shipped", _("Shipped")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class Order(TimeStamped):
    number = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    rep = models.ForeignKey(User, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    ordered_at = models.DateTimeField(db_index=True)
    due_date = models.DateField(null=True, blank=True)
    paid_date = models.DateField(null=True, blank=True)
    history = history()

    scope_owner = "rep"
    scope_logistics = True

    class Meta:
        indexes = [
            models.Index(fields=["rep", "status"]),
            models.Index(fields=["customer", "ordered_at"]),
            models.Index(fields=["due_date"], condition=Q(paid_date__isnull=True), name="sales_order_unpaid_due"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_positive")]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    history = history()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"


class Shipment(TimeStamped):
    """Order-to-receipt is measured from here: shipped, rep notified, customer told, received."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    reference = models.CharField(max_length=16, blank=True, db_index=True)
    carrier = models.CharField(max_length=50, blank=True)
    tracking = models.CharField(max_length=80, blank=True)
    eta = models.DateField(null=True, blank=True)
    shipped_at = models.DateTimeField(db_index=True)
    reported_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16, choices=Door.choices, default=Door.SMS)
    rep_notified_at = models.DateTimeField(null=True, blank=True)
    customer_told_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    history = history()

    scope_owner = "order__rep"
    scope_logistics = True

    class Meta:
        indexes = [models.Index(fields=["order", "shipped_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(received_at__isnull=True) | Q(received_at__gte=models.F("shipped_at")),
                name="shipment_received_after_shipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.carrier} {self.tracking}".strip()


class Sale(TimeStamped):
    """One unit sold. A report of several units shares one reference."""

    reference = models.CharField(max_length=16, db_index=True)
    # Indexed by the (product|rep|customer, sold_at) indexes below, which serve lookups by each alone:
    # every index is one more write per sale.
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="sales", db_index=False)
    rep = models.ForeignKey(User, on_delete=models.PROTECT, related_name="sales", db_index=False)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="sales", db_index=False
    )
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="sales")
    serial = models.CharField(max_length=40, null=True, blank=True)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    channel = models.CharField(max_length=16, choices=Door.choices, default=Door.SMS)
    sold_at = models.DateTimeField(db_index=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    history = history()

    scope_owner = "rep"

    class Meta:
        indexes = [
            models.Index(fields=["rep", "sold_at"]),
            models.Index(fields=["product", "sold_at"]),
            models.Index(fields=["customer", "sold_at"]),
        ]
        constraints = [
            # A serial is sold once: the database, not Python, settles two reports at one instant.
            models.UniqueConstraint(
                fields=["serial"],
                condition=Q(voided_at__isnull=True) & Q(serial__isnull=False),
                name="sale_serial_unique_when_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.product} {self.serial or ''}".strip()


class RewardStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class Reward(TimeStamped):
    sale = models.OneToOneField(Sale, on_delete=models.PROTECT, related_name="reward")
    rep = models.ForeignKey(User, on_delete=models.PROTECT, related_name="rewards")
    rule = models.ForeignKey(RewardRule, null=True, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=16, choices=RewardStatus.choices, default=RewardStatus.PENDING, db_index=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    history = history()

    scope_owner = "rep"

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="reward_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sale.reference}: {self.amount} ({self.status})"
