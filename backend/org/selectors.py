"""Reads of the organisation: who a token or key belongs to, and devices in the caller's sight."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from backend.core.errors import ApplicationError, NotFound
from backend.org.models import ApiKey, Device, Region
from backend.org.scoping import visible_users
from backend.org.services import API_KEY_PREFIX, DEVICE_TOKEN_PREFIX, secret_hash


def device_for_token(token: str) -> Device | None:
    """The live device a bearer token belongs to (its user active, the device not revoked)."""
    if not token.startswith(DEVICE_TOKEN_PREFIX):
        return None
    return (
        Device.objects.select_related("user")
        .filter(token_hash=secret_hash(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def api_key_for_secret(key: str) -> ApiKey | None:
    """The live API key a bearer secret belongs to, with its service user."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    return (
        ApiKey.objects.select_related("user")
        .filter(key_hash=secret_hash(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def device_list(*, user: Any, owner: Any = None) -> QuerySet[Device]:
    """Devices of `owner` (default: the caller), if the caller may see that person."""
    owner_id = owner.pk if owner is not None else user.pk
    return (
        Device.objects.filter(user__in=visible_users(user).filter(pk=owner_id))
        .select_related("user", "revoked_by")
        .order_by("-created_at", "-id")
    )


def device_get(*, user: Any, device_id: int) -> Device:
    device = (
        Device.objects.filter(pk=device_id, user__in=visible_users(user)).select_related("user", "revoked_by").first()
    )
    if device is None:
        raise NotFound(_("Device not found."), code="not_found")
    return device


def region_by_code(code: str | None) -> Region | None:
    """The region a code names (None for none); an unknown code is a clear 400."""
    if not code:
        return None
    region = Region.objects.filter(code__iexact=code.strip()).first()
    if region is None:
        raise ApplicationError(_("Unknown region %(code)s.") % {"code": code}, code="unknown_region")
    return region
