"""Sign-in by texted code, device tokens, revocation, API keys and the two commands."""

import hashlib
import re
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from backend.org.models import ApiKey, Device
from mobile_api import otp
from mobile_api.models import AuthThrottle, OtpCode
from sms_gateway.models import OutboundMessage
from tests.mobile_api.conftest import ApiClient

ZHANG = "+8613800000001"


def _ask(client, phone=ZHANG, address="10.0.0.1"):
    return client.client.post("/api/v1/auth/otp", {"phone": phone}, content_type="application/json",
                              REMOTE_ADDR=address)


def _exchange(client, code, phone=ZHANG, address="10.0.0.1"):
    return client.client.post("/api/v1/auth/token", {"phone": phone, "code": code, "device_name": "Redmi"},
                              content_type="application/json", REMOTE_ADDR=address)


def _texted_code(phone=ZHANG) -> str:
    body = OutboundMessage.objects.filter(to=phone, kind="otp").latest("pk").body
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_code_by_sms_gives_a_device_token_that_signs_requests(people, anonymous, caplog):
    answer = _ask(anonymous)
    assert answer.status_code == 202
    code = _texted_code()
    stored = OtpCode.objects.get(phone=ZHANG)
    assert code not in stored.code_hash  # kept only as a keyed hash
    signed_in = _exchange(anonymous, code)
    assert signed_in.status_code == 200
    token, device_id = signed_in.json()["token"], signed_in.json()["device_id"]
    device = Device.objects.get(pk=device_id)
    assert device.user == people["zhang"] and device.name == "Redmi"
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in device.token_hash
    assert ApiClient(token).get("/me").json()["username"] == "zhang"
    assert code not in caplog.text and token not in caplog.text
    assert _exchange(anonymous, code).status_code == 400  # a code works once


def test_unknown_phone_gets_the_same_answer_and_no_text(people, anonymous):
    known, unknown = _ask(anonymous), _ask(anonymous, phone="+8613800000099")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert not OutboundMessage.objects.filter(to="+8613800000099").exists()
    assert not OtpCode.objects.filter(phone="+8613800000099").exists()


def test_code_expires_after_five_minutes(people, anonymous):
    _ask(anonymous)
    code = _texted_code()
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        answer = _exchange(anonymous, code)
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_code"


def test_code_dies_after_five_wrong_tries(people, anonymous):
    _ask(anonymous)
    code = _texted_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert _exchange(anonymous, wrong).status_code == 400
    assert _exchange(anonymous, code).status_code == 400
    assert not Device.objects.filter(user=people["zhang"]).exists()


def test_requests_are_limited_per_phone_and_texts_capped(people, anonymous):
    answers = [_ask(anonymous, address=f"10.0.0.{n}").status_code for n in range(otp.CODE_REQUESTS_PER_PHONE + 1)]
    assert answers == [202] * otp.CODE_REQUESTS_PER_PHONE + [429]
    # Each text costs money: only the first few were sent.
    assert OutboundMessage.objects.filter(to=ZHANG, kind="otp").count() == otp.TEXTS_PER_PHONE
    assert AuthThrottle.objects.get(scope="otp_phone", key=ZHANG).count == otp.CODE_REQUESTS_PER_PHONE + 1


def test_requests_are_limited_per_client_address(people, anonymous, settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    phones = [f"+86139000{n:05d}" for n in range(otp.CODE_REQUESTS_PER_ADDRESS + 1)]
    answers = [
        anonymous.client.post("/api/v1/auth/otp", {"phone": p}, content_type="application/json",
                              HTTP_X_REAL_IP="203.0.113.9").status_code
        for p in phones
    ]
    assert answers[-1] == 429 and set(answers[:-1]) == {202}


def test_token_tries_are_limited_per_phone(people, anonymous):
    _ask(anonymous)
    for n in range(otp.TOKEN_TRIES_PER_PHONE):
        _exchange(anonymous, "999999", address=f"10.1.0.{n}")
    answer = _exchange(anonymous, _texted_code(), address="10.1.1.1")
    assert answer.status_code == 429 and answer.json()["code"] == "throttled"


def test_a_bad_phone_is_a_clear_400(anonymous, db):
    answer = _ask(anonymous, phone="not a phone")
    assert answer.status_code == 400 and answer.json()["code"] == "bad_phone"


def test_missing_or_wrong_token_is_401_in_the_error_shape(anonymous, db):
    for client in (anonymous, ApiClient("fld_nonsense")):
        answer = client.get("/me")
        assert answer.status_code == 401 and answer.json()["code"] == "unauthorized"


def test_user_revokes_own_device_with_effect_on_the_next_request(people, api_as):
    phone, tablet = api_as(people["zhang"], "phone"), api_as(people["zhang"], "tablet")
    listed = phone.get("/auth/devices").json()["items"]
    assert {d["name"] for d in listed} == {"phone", "tablet"}
    assert phone.post(f"/auth/devices/{tablet.device.pk}/revoke").status_code == 200
    assert tablet.get("/me").status_code == 401
    assert phone.get("/me").status_code == 200


def test_manager_revokes_a_lost_phone_of_the_team_and_others_cannot(people, api_as):
    lost = api_as(people["zhang"])
    assert api_as(people["li"]).post(f"/auth/devices/{lost.device.pk}/revoke").status_code == 404
    assert api_as(people["zhao"]).post(f"/auth/devices/{lost.device.pk}/revoke").status_code == 404
    wang = api_as(people["wang"])
    team_devices = wang.get("/auth/devices", {"user_id": people["zhang"].pk}).json()["items"]
    assert [d["id"] for d in team_devices] == [lost.device.pk]
    answer = wang.post(f"/auth/devices/{lost.device.pk}/revoke")
    assert answer.status_code == 200 and answer.json()["revoked_by"]["id"] == people["wang"].pk
    assert lost.get("/me").status_code == 401
    assert api_as(people["li"]).get("/auth/devices", {"user_id": people["zhang"].pk}).status_code == 404


def test_issue_token_command_prints_a_working_token_once(people):
    out = StringIO()
    call_command("issue_token", "li", "--device", "Shop handset", stdout=out, stderr=StringIO())
    token = out.getvalue().strip()
    assert ApiClient(token).get("/me").json()["username"] == "li"
    assert Device.objects.get(user=people["li"]).name == "Shop handset"


def test_api_key_records_a_shipment_and_stops_when_revoked(people):
    out = StringIO()
    call_command("issue_api_key", "ERP", "--role", "logistics", stdout=out, stderr=StringIO())
    key = out.getvalue().strip()
    erp = ApiClient(key)
    answer = erp.post("/shipments", {"order_number": "PO-1001", "carrier": "SF", "tracking": "SF42"})
    assert answer.status_code == 201, answer.content
    shipment = answer.json()
    assert shipment["order_number"] == "PO-1001" and shipment["channel"] == "api_key"
    assert erp.get("/customers").status_code == 401  # a key is not a person's device
    api_key = ApiKey.objects.get(name="ERP")
    history = api_key.user.orders.model.history.filter(number="PO-1001").latest("history_date")
    assert (history.history_door, history.history_api_key_name) == ("api_key", "ERP")
    from backend.org.services import api_key_revoke

    api_key_revoke(api_key=api_key)
    assert erp.post("/shipments", {"order_number": "PO-1001"}).status_code == 401


@pytest.mark.parametrize("who", ["zhang", "chen"])
def test_reps_cannot_record_shipments(people, api_as, who):
    answer = api_as(people[who]).post("/shipments", {"order_number": "PO-1001"})
    assert answer.status_code in (403, 404)
