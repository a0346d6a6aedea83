from datetime import timedelta

import time_machine
from django.utils import timezone

from mobile_api.models import AuthThrottle, IdempotencyRecord, OtpCode
from mobile_api.tasks import prune


def test_prune_deletes_only_what_is_past_its_use(people):
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=2)):
        IdempotencyRecord.objects.create(principal="device:1", key="old", fingerprint="f", status=201, body=b"{}",
                                         content_type="application/json")
        OtpCode.objects.create(phone="+8613800000001", user=people["zhang"], code_hash="h",
                               expires_at=timezone.now() + timedelta(minutes=5))
    IdempotencyRecord.objects.create(principal="device:1", key="new", fingerprint="f", status=201, body=b"{}",
                                     content_type="application/json")
    live = OtpCode.objects.create(phone="+8613800000001", user=people["zhang"], code_hash="h",
                                  expires_at=now + timedelta(minutes=5))
    AuthThrottle.objects.create(scope="otp_phone", key="+8613800000001", window_start=now - timedelta(days=3))
    current = AuthThrottle.objects.create(scope="otp_phone", key="+8613800000001", window_start=now)
    assert prune() == {"idempotency": 1, "throttle": 1, "otp": 1}
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert list(OtpCode.objects.all()) == [live] and list(AuthThrottle.objects.all()) == [current]
