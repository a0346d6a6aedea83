"""Who is calling: a signed-in device (`Authorization: Bearer fld_…`) or an integration's API key
(`Bearer flk_…`). Routers pick one of these; others' routers reuse them:

    device_auth              any person signed in on the app
    DeviceAuth(roles=...)    only some roles (403 otherwise), e.g. `manager_auth`
    api_key_auth             an integration; acts as the key's service user with the key's role
    integration_auth         either of the two, for endpoints both may call

`request.auth` is the acting user; `request.device` / `request.api_key` say how they came in.
Each also sets the history actor and door (audit.context) for the rest of the request.
"""

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from audit.context import Door, set_actor
from backend.core.errors import Forbidden
from backend.org.models import Role
from backend.org.selectors import api_key_for_secret, device_for_token
from backend.org.services import device_seen


class _RoleBearer(HttpBearer):
    def __init__(self, roles: Iterable[str] | None = None) -> None:
        super().__init__()
        self.roles = frozenset(roles) if roles else None

    def _allowed(self, user: Any) -> Any:
        if self.roles is not None and user.role not in self.roles and not user.is_superuser:
            raise Forbidden(_("Your role may not do this."), code="forbidden_role")
        return user


class DeviceAuth(_RoleBearer):
    """A person's phone, signed in by SMS code or provisioned with `issue_token`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        device = device_for_token(token)
        if device is None:
            return None
        device_seen(device)
        request.device, request.api_key = device, None
        set_actor(user=device.user, door=Door.APP)
        return self._allowed(device.user)


class ApiKeyAuth(_RoleBearer):
    """An integration (ERP, warehouse) with a role, acting as its key's service user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_key = api_key_for_secret(token)
        if api_key is None:
            return None
        request.device, request.api_key = None, api_key
        set_actor(user=api_key.user, door=Door.API_KEY, api_key=api_key)
        return self._allowed(api_key.user)


device_auth = DeviceAuth()
manager_auth = DeviceAuth(roles=(Role.MANAGER, Role.EXECUTIVE))
api_key_auth = ApiKeyAuth()
integration_auth = [api_key_auth, device_auth]


def principal_of(request: HttpRequest) -> str | None:
    """Who owns idempotency keys: one device, or one API key."""
    device, api_key = getattr(request, "device", None), getattr(request, "api_key", None)
    if device is not None:
        return f"device:{device.pk}"
    if api_key is not None:
        return f"api_key:{api_key.pk}"
    return None
