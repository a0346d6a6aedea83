"""The dashboard socket: session-signed, managers and executives only, our own origin only, and
a sale recorded below the manager arrives as an event."""

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from mobile_api.routing import websocket_urlpatterns
from tests import factories as f

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

app = URLRouter(websocket_urlpatterns)


@database_sync_to_async
def _people():
    boss = f.ExecutiveFactory()
    manager = f.ManagerFactory(manager=boss)
    other = f.ManagerFactory(manager=boss)
    rep = f.RepFactory(manager=manager, branch=manager.branch)
    product = f.ProductFactory(code="DASH1")
    return boss, manager, other, rep, product


@database_sync_to_async
def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(type(user).objects.get(pk=user.pk))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


@database_sync_to_async
def _report_sale(rep):
    from backend.sales.services import sale_report

    return sale_report(rep=rep, product_code="DASH1", quantity=3, channel="sms")


def _socket(cookie: bytes | None, origin: bytes = b"http://localhost") -> WebsocketCommunicator:
    headers = [(b"origin", origin), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(app, "/ws/v1/dashboard", headers=headers)


async def test_a_manager_sees_a_sale_of_the_team_live():
    boss, manager, other, rep, _product = await _people()
    mine, theirs, top = [_socket(await _session_cookie(u)) for u in (manager, other, boss)]
    for socket in (mine, theirs, top):
        connected, _ = await socket.connect()
        assert connected
    report = await _report_sale(rep)
    for socket in (mine, top):
        event = await socket.receive_json_from(timeout=2)
        assert (event["type"], event["id"], event["data"]["units"], event["data"]["product"]) == (
            "sale_recorded", report.reference, 3, "DASH1",
        )
    assert await theirs.receive_nothing(timeout=0.2)
    for socket in (mine, theirs, top):
        await socket.disconnect()


async def test_reps_and_strangers_are_turned_away():
    _boss, _manager, _other, rep, _product = await _people()
    for cookie in (await _session_cookie(rep), None):
        connected, code = await _socket(cookie).connect()
        assert (connected, code) == (False, 4403)


async def test_another_sites_page_may_not_use_the_managers_cookie():
    _boss, manager, _other, _rep, _product = await _people()
    connected, _ = await _socket(await _session_cookie(manager), origin=b"https://evil.example").connect()
    assert not connected
