"""Probes: /healthz says the process answers; /readyz says the database and Redis do too."""

import pytest
from django.db import DatabaseError

from backend.core import views

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ready_when_the_database_answers_and_no_redis_is_configured(client, settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_is_unavailable_when_redis_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/1"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "ConnectionError"
    assert body["checks"]["broker"] == "ConnectionError"


def test_readyz_is_unavailable_when_the_database_fails(client, settings, monkeypatch):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"

    class BrokenConnection:
        def cursor(self):
            raise DatabaseError("connection refused")

    monkeypatch.setattr(views, "connection", BrokenConnection())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "DatabaseError"}


def test_probes_refuse_other_methods(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def test_the_broker_is_checked_once_when_it_is_the_same_redis(settings):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = "redis://cache:6379/0"
    assert views._redis_urls() == {"redis": "redis://cache:6379/0"}
