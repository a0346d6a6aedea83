"""Writes of the organisation: sign-in tokens of devices and keys of integrations.

Tokens and keys are random secrets shown once; only their SHA-256 is stored. A secret with 256
bits of randomness needs no slow hash: nobody can guess it, and a stolen table gives nothing."""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from backend.core.errors import ApplicationError, Forbidden, NotFound
from backend.notifications.services import close_device_sockets
from backend.org.models import ApiKey, Device, Role, User
from backend.org.scoping import can_manage

DEVICE_TOKEN_PREFIX = "fld_"
API_KEY_PREFIX = "flk_"
SECRET_BYTES = 32
# Writing "last seen" on every request would make every read a write.
LAST_SEEN_EVERY = timedelta(minutes=5)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(SECRET_BYTES)


@transaction.atomic
def device_token_issue(*, user: User, name: str) -> tuple[Device, str]:
    """A new signed-in device for `user`, and its token (shown once, never stored)."""
    if not user.is_active:
        raise Forbidden(_("This account is not active."), code="inactive_user")
    token = _new_secret(DEVICE_TOKEN_PREFIX)
    device = Device.objects.create(user=user, name=(name or "").strip()[:100] or "phone", token_hash=secret_hash(token))
    return device, token


@transaction.atomic
def device_revoke(*, device: Device, by: Any) -> Device:
    """Sign a device out: by its user, or by their manager for a lost phone. Its next request
    gets 401 and its open sockets are closed after commit."""
    if device.user_id != by.pk and not can_manage(by, device.user):
        raise NotFound(_("Device not found."), code="not_found")
    if device.revoked_at is None:
        device.revoked_at, device.revoked_by = timezone.now(), by
        device.save(update_fields=["revoked_at", "revoked_by"])
        # Robust: the revocation stands even if the close is lost; sockets re-check before each event.
        transaction.on_commit(lambda: close_device_sockets(device.pk), robust=True)
    return device


def device_seen(device: Device) -> None:
    """Note that the device is in use, at most every few minutes (no history row: not business data)."""
    now = timezone.now()
    if device.last_seen_at is None or now - device.last_seen_at > LAST_SEEN_EVERY:
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now


@transaction.atomic
def api_key_issue(*, name: str, role: str = Role.LOGISTICS) -> tuple[ApiKey, str]:
    """A key for an integration, and the service user it acts as. The key is shown once."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("An API key needs a name."), code="name_required")
    if role not in (Role.LOGISTICS, Role.MANAGER):
        raise ApplicationError(_("An API key's role is logistics or manager."), code="bad_role")
    if ApiKey.objects.filter(name=name).exists():
        raise ApplicationError(_("An API key named %(name)s exists already.") % {"name": name}, code="name_taken")
    user = User(username=f"api-{slugify(name)[:100]}-{secrets.token_hex(3)}", first_name=name[:150], role=role)
    user.set_unusable_password()
    user.save()
    key = _new_secret(API_KEY_PREFIX)
    api_key = ApiKey.objects.create(name=name, role=role, key_hash=secret_hash(key), user=user)
    return api_key, key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """The key stops working at once; its service user can no longer act or see anything."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        if api_key.user_id:
            User.objects.filter(pk=api_key.user_id).update(is_active=False)
    return api_key
