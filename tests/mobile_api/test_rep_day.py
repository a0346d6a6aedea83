"""A rep's day through the API alone: sign in, sync, visit, move a deal, report a sale, get the
shipment push over the websocket, acknowledge it."""

import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from backend.asgi import application
from backend.crm.models import Stage
from backend.org.services import api_key_issue
from backend.sales.models import Order
from sms_gateway.providers import locmem
from tests.mobile_api.conftest import ApiClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_worker_connections")]


def _code_texted_to(phone: str) -> str:
    """The code as the phone got it (the kept copy of a code's text is blanked once it is sent)."""
    body = next(text.body for text in reversed(locmem.outbox) if text.to == phone)
    return re.search(r"\b(\d{6})\b", body).group(1)


def _last_stage_like(stage_id: int) -> Stage:
    return Stage.objects.filter(division__stages=stage_id).order_by("-order").first()


def _order_id(number: str) -> str:
    return str(Order.objects.get(number=number).pk)


async def _sync(app: ApiClient, cursor: str | None = None) -> dict:
    """Page through one pull: rows per table (created or updated), and the cursor to keep."""
    rows: dict = {}
    while True:
        page = (await sync_to_async(app.get)("/sync", {"cursor": cursor} if cursor else {})).json()
        for table, changes in page["changes"].items():
            rows.setdefault(table, []).extend(changes["created"] + changes["updated"])
        cursor = page["cursor"]
        if not page["has_more"]:
            return {**rows, "cursor": cursor}


async def test_a_reps_day(people, settings):
    settings.SMS_PROVIDER = "locmem"
    call = sync_to_async
    phone = people["zhang"].phone
    app = ApiClient()

    # Morning: sign in with the code texted to the phone.
    assert (await call(app.post)("/auth/otp", {"phone": phone})).status_code == 202
    code = await call(_code_texted_to)(phone)
    signed_in = (await call(app.post)("/auth/token", {"phone": phone, "code": code, "device_name": "Redmi"})).json()
    app.token = signed_in["token"]

    # Sync the day's data, and open the live stream.
    pulled = await _sync(app)
    customers = {c["name"]: c for c in pulled["customers"]}
    assert set(customers) == {"Wuhan Motors Ltd", "Hubei Home Store"}
    socket = WebsocketCommunicator(application, "/ws/v1/stream",
                                   headers=[(b"authorization", f"Bearer {app.token}".encode())])
    assert (await socket.connect())[0]
    assert (await socket.receive_json_from())["type"] == "session.ready"

    # Visit Wuhan Motors: check in on the spot, check out with notes.
    wuhan = customers["Wuhan Motors Ltd"]
    visit = (await call(app.post)("/activities/check-in", {"customer_id": wuhan["id"], "location": {
        "latitude": 30.5930, "longitude": 114.3052, "accuracy_m": 8, "fixed_at": timezone.now().isoformat()}})).json()
    assert visit["location_flag"] == "ok"
    out = await call(app.post)(f"/activities/{visit['id']}/check-out", {"note": "Fleet wants 2 more CS75"})
    assert out.status_code == 200

    # Move the deal on, by the version it was synced at.
    deal = next(d for d in pulled["opportunities"]
                if d["customer_id"] == wuhan["id"] and d["status"] == "open")
    later = await call(_last_stage_like)(deal["stage"]["id"])
    moved = await call(app.post)(f"/opportunities/{deal['id']}/stage", {"stage_id": later.pk},
                                 headers={"If-Match": str(deal["version"])})
    assert moved.status_code == 200 and moved.json()["stage"]["name"] == "Contract"

    # Report the sale of a car.
    sold = (await call(app.post)("/sales", {"product": "CS75", "serials": ["LFV3A28K5L3012345"],
                                            "customer_id": wuhan["id"]})).json()
    assert sold["reward_total"] == "200.00" and sold["reference"].startswith("S")

    # The warehouse ships PO-1001: the push arrives at once, and the notice is in the inbox.
    _, key = await call(api_key_issue)(name="WMS", role="logistics")
    shipped = await call(ApiClient(key).post)("/shipments", {"order_number": "PO-1001", "carrier": "SF",
                                                             "tracking": "SF1234567", "eta": "2026-12-01"})
    assert shipped.status_code == 201
    event = await socket.receive_json_from(timeout=3)
    assert event["type"] == "shipment" and event["data"]["order"] == "PO-1001"
    inbox = (await call(app.get)("/notifications", {"unread": True})).json()["items"]
    assert event["id"] in [n["id"] for n in inbox]

    # Tell the customer, and say so.
    order_id = await call(_order_id)("PO-1001")
    told = (await call(app.post)(f"/orders/{order_id}/acknowledge")).json()
    assert told["shipments"][0]["customer_told_at"] is not None
    await call(app.post)(f"/notifications/{event['id']}/read")

    # The evening sync has it all.
    evening = await _sync(app, pulled["cursor"])
    assert visit["id"] in [a["id"] for a in evening["activities"]]
    assert deal["id"] in [d["id"] for d in evening["opportunities"]]
    assert sold["sales"][0]["id"] in [s["id"] for s in evening["sales"]]
    assert order_id in [o["id"] for o in evening["orders"]]
    assert event["id"] in [n["id"] for n in evening["notifications"]]
    await socket.disconnect()
