"""`Idempotency-Key`: a replayed POST answers what the first answered and changes nothing."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from backend.crm.models import Customer, DuplicateConflict
from backend.org.services import device_revoke
from backend.sales.models import Sale
from mobile_api.models import IdempotencyRecord

KEY = {"Idempotency-Key": "6f1d2c3b-0a9e-4f8d-b7c6-a5b4c3d2e1f0"}


def test_a_replayed_create_answers_the_same_and_creates_nothing(people, api_as):
    zhang = api_as(people["zhang"])
    first = zhang.post("/customers", {"name": "Jiangxia Motors"}, headers=KEY)
    again = zhang.post("/customers", {"name": "Jiangxia Motors"}, headers=KEY)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Customer.objects.filter(name="Jiangxia Motors").count() == 1


def test_a_replayed_sale_makes_one_sale(people, api_as):
    zhang = api_as(people["zhang"])
    answers = [zhang.post("/sales", {"product": "BCD470", "quantity": 2}, headers=KEY) for _ in range(3)]
    assert {a.status_code for a in answers} == {201} and len({a.content for a in answers}) == 1
    assert Sale.objects.filter(reference=answers[0].json()["reference"]).count() == 2
    assert Sale.objects.filter(rep=people["zhang"], channel="app").count() == 2


def test_a_replayed_refusal_is_the_same_refusal_and_opens_no_second_conflict(people, api_as):
    li = api_as(people["li"])
    first = li.post("/customers", {"name": "Wuhan Motors"}, headers=KEY)
    again = li.post("/customers", {"name": "Wuhan Motors"}, headers=KEY)
    assert first.status_code == again.status_code == 409
    assert again.json()["conflict_id"] == first.json()["conflict_id"]
    assert DuplicateConflict.objects.count() == 1  # the conflict of the first call was kept


def test_the_same_key_for_another_request_is_refused(people, api_as):
    zhang = api_as(people["zhang"])
    zhang.post("/customers", {"name": "Jiangxia Motors"}, headers=KEY)
    other = zhang.post("/customers", {"name": "Hanyang Motors"}, headers=KEY)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert not Customer.objects.filter(name="Hanyang Motors").exists()


def test_keys_belong_to_one_device_and_last_a_day(people, api_as):
    phone, tablet = api_as(people["zhang"], "phone"), api_as(people["zhang"], "tablet")
    phone.post("/customers", {"name": "Jiangxia Motors"}, headers=KEY)
    tablet.post("/customers", {"name": "Jiangxia Motors"}, headers=KEY)
    assert Customer.objects.filter(name="Jiangxia Motors").count() == 2
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        later = phone.post("/customers", {"name": "Jiangxia Motors"}, headers=KEY)
    assert later.status_code == 201 and "Idempotent-Replayed" not in later
    assert Customer.objects.filter(name="Jiangxia Motors").count() == 3
    assert IdempotencyRecord.objects.count() == 2


def test_a_revoked_token_is_refused_not_replayed(people, api_as):
    zhang = api_as(people["zhang"])
    zhang.post("/customers", {"name": "Jiangxia Motors"}, headers=KEY)
    device_revoke(device=zhang.device, by=people["zhang"])
    assert zhang.post("/customers", {"name": "Jiangxia Motors"}, headers=KEY).status_code == 401


def test_without_a_key_nothing_is_recorded(people, api_as):
    api_as(people["zhang"]).post("/customers", {"name": "Jiangxia Motors"})
    assert IdempotencyRecord.objects.count() == 0
