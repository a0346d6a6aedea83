"""The managers' dashboard socket, `/ws/v1/dashboard`: signed in by the Django session (the
dashboard page's own cookie), managers and executives only. It joins `dashboard.<user id>`, where
the domain publishes "sale recorded" after commit, and passes each event on as JSON.

The session cookie travels with any page's websocket, so the Origin must be one of our hosts."""

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.security.websocket import AllowedHostsOriginValidator

from backend.org.models import Role
from backend.reports.services import dashboard_group

FORBIDDEN = 4403


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        allowed = user is not None and user.is_authenticated and user.is_active and (
            user.is_superuser or user.role in (Role.MANAGER, Role.EXECUTIVE)
        )
        if not allowed:
            await self.close(code=FORBIDDEN)
            return
        self.group = dashboard_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The socket only listens; anything sent is ignored."""

    async def dashboard_events(self, message: dict) -> None:
        """Sales recorded together reach the socket as one frame each, as API.md has them."""
        for event in message["events"]:
            await self.send_json(event)


application = AllowedHostsOriginValidator(AuthMiddlewareStack(DashboardConsumer.as_asgi()))
