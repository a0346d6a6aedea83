from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import history


class Division(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=100)
    history = history()

    def __str__(self) -> str:
        return self.code


class Region(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    history = history()

    def __str__(self) -> str:
        return self.name


class Branch(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="branches")
    history = history()

    class Meta:
        verbose_name_plural = "branches"

    def __str__(self) -> str:
        return self.code


class Role(models.TextChoices):
    REP = "rep", _("Rep")
    MANAGER = "manager", _("Manager")
    EXECUTIVE = "executive", _("Executive")
    LOGISTICS = "logistics", _("Logistics")


class Language(models.TextChoices):
    EN = "en", "English"
    ZH = "zh-hans", "简体中文"


class User(AbstractUser):
    """A person who works with Fieldline. The phone (E.164) is how SMS finds them."""

    phone = models.CharField(max_length=20, unique=True, null=True, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP, db_index=True)
    branch = models.ForeignKey(Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    division = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    preferred_language = models.CharField(max_length=8, choices=Language.choices, default=Language.ZH)

    # Only the organisational facts are kept as history; logins and passwords are not business data.
    history = history(
        excluded_fields=["password", "last_login", "first_name", "last_name", "email", "date_joined"],
        user_related_name="+",
    )

    objects = UserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(manager=models.F("id")), name="user_not_own_manager"),
            models.CheckConstraint(
                condition=Q(phone__isnull=True) | Q(phone__startswith="+"), name="user_phone_e164"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return str(self)


class Device(models.Model):
    """A handset signed in to the app. The token is stored only as its SHA-256."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    history = history()

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.user} / {self.name}"


class ApiKey(models.Model):
    """A key for an integration (ERP, warehouse), stored only as its SHA-256, with a role."""

    name = models.CharField(max_length=100, unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.LOGISTICS)
    key_hash = models.CharField(max_length=64, unique=True)
    # The integration acts in the domain as this service user (no password, the key's role), so
    # services that ask "who did it" and "may they" work unchanged.
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="api_key", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = history()

    def __str__(self) -> str:
        return self.name
