"""`/ws/v1/stream`: token outside the URL, one group per user, events, revocation closes."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from backend.asgi import application
from backend.notifications import presence
from backend.notifications.services import notify
from backend.org.models import Device
from backend.org.services import device_revoke, device_token_issue
from mobile_api import consumers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_worker_connections")]
PATH = "/ws/v1/stream"


@pytest.fixture
def signed_in(people):
    device, token = device_token_issue(user=people["zhang"], name="phone")
    return device, token


async def _connect(headers=None, subprotocols=None, path=PATH):
    socket = WebsocketCommunicator(application, path, headers=headers or [], subprotocols=subprotocols)
    connected, protocol = await socket.connect()
    return socket, connected, protocol


async def _notify(user, text="PO-1001 shipped", kind="shipment"):
    return await sync_to_async(notify)(recipient=user, kind=kind, text=text, data={"order": "PO-1001"}, sms=False)


async def test_header_token_gets_the_users_events(people, signed_in):
    device, token = signed_in
    socket, connected, _ = await _connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    assert connected
    ready = await socket.receive_json_from()
    assert ready["type"] == "session.ready" and ready["data"] == {"user_id": people["zhang"].pk, "device_id": device.pk}
    assert await sync_to_async(presence.is_online)(people["zhang"].pk)
    await _notify(people["li"], text="not for Zhang")
    notice = await _notify(people["zhang"])
    event = await socket.receive_json_from(timeout=2)
    assert event == {"type": "shipment", "id": str(notice.pk), "created": notice.created_at.isoformat(),
                     "data": {"text": "PO-1001 shipped", "order": "PO-1001"}}
    assert await socket.receive_nothing()
    await socket.disconnect()
    assert not await sync_to_async(presence.is_online)(people["zhang"].pk)


async def test_browser_subprotocol_token(people, signed_in):
    _, token = signed_in
    socket, connected, protocol = await _connect(subprotocols=["fieldline.v1", f"fieldline.bearer.{token}"])
    assert connected and protocol == "fieldline.v1"
    assert (await socket.receive_json_from())["type"] == "session.ready"
    await socket.disconnect()


async def test_first_message_token(people, signed_in):
    _, token = signed_in
    socket, connected, _ = await _connect()
    assert connected
    await socket.send_json_to({"type": "auth", "token": token})
    assert (await socket.receive_json_from())["type"] == "session.ready"
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from())["type"] == "pong"
    await socket.disconnect()


async def test_a_bad_token_is_refused(people, signed_in):
    _, connected, _ = await _connect(headers=[(b"authorization", b"Bearer fld_wrong")])
    assert not connected
    socket, connected, _ = await _connect()
    await socket.send_json_to({"type": "auth", "token": "fld_wrong"})
    assert (await socket.receive_output())["code"] == consumers.CLOSE_UNAUTHORIZED


async def test_a_token_in_the_url_is_not_accepted(people, signed_in, monkeypatch):
    monkeypatch.setattr(consumers, "AUTH_TIMEOUT_SECONDS", 0.1)
    _, token = signed_in
    socket, connected, _ = await _connect(path=f"{PATH}?token={token}")
    assert connected  # waiting for the auth message, which never comes
    closed = await socket.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHORIZED}


async def test_revoking_the_device_closes_its_socket(people, signed_in):
    device, token = signed_in
    socket, _, _ = await _connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    await socket.receive_json_from()
    await sync_to_async(device_revoke)(device=device, by=people["wang"])
    closed = await socket.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHORIZED}


async def test_a_revoked_device_gets_no_event_even_if_the_close_was_lost(people, signed_in):
    device, token = signed_in
    socket, _, _ = await _connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    await socket.receive_json_from()
    # Revoked without the close message (as if the channel layer dropped it).
    await sync_to_async(Device.objects.filter(pk=device.pk).update)(revoked_at=timezone.now())
    await _notify(people["zhang"])
    closed = await socket.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHORIZED}
