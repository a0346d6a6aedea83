"""`/ws/v1/stream`: live events for one signed-in device (API.md).

The token never goes in the URL (URLs end up in logs). It comes in the upgrade request's
`Authorization: Bearer <token>` header, or - browsers cannot set headers - as a subprotocol
`fieldline.bearer.<token>` offered next to `fieldline.v1` (the server answers `fieldline.v1`),
or as the first message `{"type": "auth", "token": "..."}` within 10 seconds.

A push is a hint: the channel layer may drop it. Every event is also in the inbox and in sync,
so a client that reconnects catches up there. A revoked device is closed at once (its group
gets `device.revoked`) and is checked again before each event.
"""

import asyncio
import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from backend.notifications import presence
from backend.notifications.services import device_group, user_group
from backend.org.models import Device
from backend.org.selectors import device_for_token

PROTOCOL = "fieldline.v1"
TOKEN_PROTOCOL_PREFIX = "fieldline.bearer."
AUTH_TIMEOUT_SECONDS = 10
CLOSE_UNAUTHORIZED = 4401


def _token_from_scope(scope: dict) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
    for protocol in scope.get("subprotocols", []):
        if protocol.startswith(TOKEN_PROTOCOL_PREFIX):
            return protocol[len(TOKEN_PROTOCOL_PREFIX):]
    return None


@database_sync_to_async
def _device(token: str) -> Device | None:
    return device_for_token(token)


@database_sync_to_async
def _still_live(device_id: int) -> bool:
    return Device.objects.filter(pk=device_id, revoked_at__isnull=True, user__is_active=True).exists()


class EventStream(AsyncJsonWebsocketConsumer):
    device: Device | None = None
    _auth_timer: asyncio.Task | None = None

    async def connect(self) -> None:
        protocol = PROTOCOL if PROTOCOL in self.scope.get("subprotocols", []) else None
        token = _token_from_scope(self.scope)
        if token is None:
            # Wait for {"type": "auth"}; close if it does not come.
            await self.accept(subprotocol=protocol)
            self._auth_timer = asyncio.ensure_future(self._close_if_silent())
            return
        device = await _device(token)
        if device is None:
            await self.close()  # before accept: the handshake is refused (HTTP 403)
            return
        await self.accept(subprotocol=protocol)
        await self._start(device)

    async def _close_if_silent(self) -> None:
        await asyncio.sleep(AUTH_TIMEOUT_SECONDS)
        if self.device is None:
            await self.close(code=CLOSE_UNAUTHORIZED)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Anything but a JSON text frame counts as an empty message: a client's garbage never
        crashes the stream (before sign-in it closes the socket like a wrong token)."""
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.device is not None:
            if isinstance(content, dict) and content.get("type") == "ping":
                await self.send_json(_event("pong", {}))
            return
        token = content.get("token") if isinstance(content, dict) and content.get("type") == "auth" else None
        device = await _device(str(token)) if token else None
        if device is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        await self._start(device)

    async def _start(self, device: Device) -> None:
        self.device = device
        if self._auth_timer is not None:
            self._auth_timer.cancel()
        await self.channel_layer.group_add(user_group(device.user_id), self.channel_name)
        await self.channel_layer.group_add(device_group(device.pk), self.channel_name)
        await database_sync_to_async(presence.mark_online)(device.user_id)
        await self.send_json(_event("session.ready", {"user_id": device.user_id, "device_id": device.pk}))

    async def disconnect(self, code: int) -> None:
        if self._auth_timer is not None:
            self._auth_timer.cancel()
        if self.device is None:
            return
        await self.channel_layer.group_discard(user_group(self.device.user_id), self.channel_name)
        await self.channel_layer.group_discard(device_group(self.device.pk), self.channel_name)
        await database_sync_to_async(presence.mark_offline)(self.device.user_id)
        self.device = None

    async def event_push(self, message: dict) -> None:
        """A notice for this person (backend.notifications.notify), if the device is still live."""
        if self.device is None:
            return
        if not await _still_live(self.device.pk):
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        await self.send_json(message["event"])

    async def device_revoked(self, message: dict) -> None:
        await self.close(code=CLOSE_UNAUTHORIZED)


def _event(kind: str, data: dict) -> dict:
    return {"type": kind, "id": None, "created": timezone.now().isoformat(), "data": data}
