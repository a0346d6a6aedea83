"""The live stream (issue 8.2): a person never receives another person's events, whatever they
send down their socket, and a revoked device stops receiving at once."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from backend.asgi import application
from backend.crm.models import Customer
from backend.crm.services import conflict_open
from backend.notifications.models import Notification
from backend.notifications.services import notify
from backend.org.services import device_revoke, device_token_issue
from backend.sales.services import shipment_record
from mobile_api import consumers

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/ws/v1/stream"
QUIET = 0.3  # seconds a socket must stay silent to count as "received nothing"


async def _open(user, name="phone"):
    device, token = await sync_to_async(device_token_issue)(user=user, name=name)
    socket = WebsocketCommunicator(application, PATH, headers=[(b"authorization", f"Bearer {token}".encode())])
    connected, _ = await socket.connect()
    assert connected
    ready = await socket.receive_json_from(timeout=2)
    assert ready["data"] == {"user_id": user.pk, "device_id": device.pk}
    socket.user, socket.device, socket.token = user, device, token
    return socket


async def _drain(socket, expected: int) -> list[dict]:
    """The `expected` events (each may take a while through Redis), then proof that no more come."""
    events = []
    for _ in range(expected):
        output = await socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            events.append({"type": "closed", "code": output.get("code")})
            return events
        events.append(json.loads(output["text"]))
    assert await socket.receive_nothing(timeout=QUIET), "an event beyond the expected ones"
    return events


def _cause_events(people: dict) -> None:
    """Real flows that notify people: a shipment (Zhang), a duplicate conflict (the managers of
    both reps), and a direct notice to each person."""
    shipment_record(actor=people["wms"], order_number="PO-1001", carrier="SF", tracking="SF1", channel="api_key")
    conflict_open(existing=Customer.objects.get(name="Pudong Auto Mall"), reported_by=people["li"], source="app",
                  matched_on="phone")
    for username in ("zhang", "li", "chen", "wang", "zhao", "exec"):
        notify(recipient=people[username], kind="test", text=f"for {username}", sms=False)


async def test_each_socket_gets_exactly_its_own_persons_events(people):
    names = ("zhang", "li", "chen", "wang", "zhao", "exec")
    sockets = [await _open(people[name]) for name in names]
    second_zhang = await _open(people["zhang"], name="tablet")

    await sync_to_async(_cause_events)(people)

    for socket in [*sockets, second_zhang]:
        expected = await sync_to_async(lambda u=socket.user: set(
            Notification.objects.filter(recipient=u).values_list("pk", flat=True)))()
        got = await _drain(socket, len(expected))
        assert {event["id"] for event in got} == {str(pk) for pk in expected}, socket.user.username
        assert len(got) == len(expected)  # and each once
        await socket.disconnect()


async def test_what_a_client_sends_never_widens_its_stream(people):
    """A second auth message with someone else's token, or a message shaped like a server event,
    changes nothing: the socket stays Zhang's."""
    zhang = await _open(people["zhang"])
    _, li_token = await sync_to_async(device_token_issue)(user=people["li"], name="li")

    await zhang.send_json_to({"type": "auth", "token": li_token})
    await zhang.send_json_to({"type": "event.push", "event": {"type": "forged", "id": "1", "data": {}}})
    await zhang.send_json_to({"type": "device.revoked"})
    await zhang.send_to(text_data="not json at all")
    await zhang.send_to(bytes_data=b"\x00\xff")
    await sync_to_async(notify)(recipient=people["li"], kind="test", text="for li", sms=False)
    mine = await sync_to_async(notify)(recipient=people["zhang"], kind="test", text="for zhang", sms=False)

    got = await _drain(zhang, 1)
    assert [event.get("id") for event in got] == [str(mine.pk)]
    await zhang.disconnect()


async def test_garbage_before_sign_in_closes_the_socket_like_a_wrong_token(people):
    for frame in ({"text_data": "{not json"}, {"bytes_data": b"\x00"}, {"text_data": "[1, 2]"}):
        socket = WebsocketCommunicator(application, PATH)
        connected, _ = await socket.connect()
        assert connected
        await socket.send_to(**frame)
        assert (await socket.receive_output(timeout=2)) == {
            "type": "websocket.close", "code": consumers.CLOSE_UNAUTHORIZED}


async def test_a_revoked_device_stops_at_once_and_the_other_device_goes_on(people):
    lost, kept = await _open(people["zhang"], "lost"), await _open(people["zhang"], "kept")

    await sync_to_async(device_revoke)(device=lost.device, by=people["wang"])
    notice = await sync_to_async(notify)(recipient=people["zhang"], kind="test", text="after", sms=False)

    assert (await lost.receive_output(timeout=2)) == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHORIZED}
    assert [event["id"] for event in await _drain(kept, 1)] == [str(notice.pk)]
    reconnect = WebsocketCommunicator(application, PATH, headers=[(b"authorization", f"Bearer {lost.token}".encode())])
    connected, _ = await reconnect.connect()
    assert not connected
    await kept.disconnect()


async def test_many_people_at_once_each_get_only_their_own(people):
    """Twenty sockets, events sent concurrently: no event crosses over."""
    users = [people[name] for name in ("zhang", "li", "chen", "wang", "zhao")] * 4
    sockets = [await _open(user, name=f"d{i}") for i, user in enumerate(users)]

    async def send(user, n):
        await sync_to_async(notify)(recipient=user, kind="test", text=f"{user.pk}:{n}", sms=False)

    await asyncio.gather(*(send(user, n) for n, user in enumerate(users[:5] * 3)))

    for socket in sockets:
        got = await _drain(socket, 3)
        assert len(got) == 3
        assert all(event["data"]["text"].startswith(f"{socket.user.pk}:") for event in got)
        await socket.disconnect()
