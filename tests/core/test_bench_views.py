"""The floor endpoint of the inbound benchmark: off by default, and when on, it checks the
signature and stores one row, nothing else."""

import pytest
from django.db import connection
from django.urls import path

from backend.core import bench_views
from backend.core.bench_views import floor_inbound
from tests.fakes.twilio_server import signed_headers

urlpatterns = [path("bench/floor/inbound", floor_inbound)]
URL = "/bench/floor/inbound"
PARAMS = {"MessageSid": "SMfloor0001", "From": "+8613800000001", "To": "+15005550006", "Body": "STATUS"}


@pytest.fixture
def floor(settings, monkeypatch):
    settings.TWILIO_AUTH_TOKEN = "secret"
    settings.PUBLIC_BASE_URL = ""
    monkeypatch.setattr(bench_views, "_table_ready", False)


def _rows() -> list[tuple]:
    if bench_views.TABLE not in connection.introspection.table_names():
        return []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sid, sender, body FROM {bench_views.TABLE}")
        return cursor.fetchall()


def test_not_mounted_by_default(db, client):
    assert client.post(URL, PARAMS).status_code == 404


@pytest.mark.urls(__name__)
def test_a_signed_webhook_is_stored_in_one_row(db, client, floor, django_assert_num_queries):
    signature = signed_headers(f"http://testserver{URL}", PARAMS, "secret")["X-Twilio-Signature"]
    response = client.post(URL, PARAMS, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200
    assert response.content == b"<Response/>"
    assert _rows() == [("SMfloor0001", "+8613800000001", "STATUS")]
    second = {**PARAMS, "MessageSid": "SMfloor0002"}
    signature = signed_headers(f"http://testserver{URL}", second, "secret")["X-Twilio-Signature"]
    with django_assert_num_queries(1):  # the table exists now: one insert, nothing else
        assert client.post(URL, second, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 200


@pytest.mark.urls(__name__)
def test_a_forged_signature_is_refused_and_stores_nothing(db, client, floor):
    signature = signed_headers(f"http://testserver{URL}", PARAMS, "not-the-token")["X-Twilio-Signature"]
    assert client.post(URL, PARAMS, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 403
    assert client.post(URL, PARAMS).status_code == 403
    assert _rows() == []
