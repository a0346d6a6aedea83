"""Clients of the API as each demo person, signed in with a device token."""

import json

import pytest
from django.test import Client

from backend.org.services import device_token_issue


class ApiClient:
    """`Authorization: Bearer <token>` on every call; JSON in, the response out."""

    def __init__(self, token: str | None = None):
        self.token = token
        self.client = Client()

    def _headers(self, headers: dict | None) -> dict:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**merged, **(headers or {})}

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get(f"/api/v1{path}", params or {}, headers=self._headers(headers))

    def post(self, path: str, body: dict | None = None, headers: dict | None = None):
        return self.client.post(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json",
                                headers=self._headers(headers))

    def patch(self, path: str, body: dict, headers: dict | None = None):
        return self.client.patch(f"/api/v1{path}", json.dumps(body), content_type="application/json",
                                 headers=self._headers(headers))


@pytest.fixture
def api_as():
    """`api_as(user)`: a client signed in on a new device of `user` (`.token`, `.device`)."""

    def make(user, device_name: str = "phone") -> ApiClient:
        device, token = device_token_issue(user=user, name=device_name)
        client = ApiClient(token)
        client.device = device
        return client

    return make


@pytest.fixture
def anonymous():
    return ApiClient()


@pytest.fixture
def sms_outbox(settings):
    """Texts go to the locmem provider; the list of what was sent."""
    from sms_gateway.providers.locmem import outbox

    settings.SMS_PROVIDER = "locmem"
    outbox.clear()
    yield outbox
    outbox.clear()


@pytest.fixture
async def close_worker_connections():
    """Consumers reach the database from a worker thread; close its connection after the test so
    PostgreSQL can drop the test database at the end."""
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    await sync_to_async(connections.close_all)()
