"""What the trust tests share: a signed-in API client per kind of caller, and a fingerprint of
everything the database records, to prove a refused request changed nothing."""

import pytest
from django.apps import apps

from backend.org.models import Role
from backend.org.services import api_key_issue, device_revoke, device_token_issue
from tests.mobile_api.conftest import ApiClient

# The SMS door's loopback Twilio and signed webhooks, shared rather than copied.
from tests.sms_gateway.conftest import AUTH_TOKEN, SERVICE_NUMBER, fake_twilio, signed_post, twilio_server  # noqa: F401

# The callers of issue 8: (persona, who they are to Zhang's records).
PERSONAS = (
    "owner",  # Zhang, who owns the records under test
    "peer",  # Li: a rep of the same team
    "stranger",  # Chen: a rep of another team and branch
    "manager",  # Wang: Zhang's manager
    "other_manager",  # Zhao: another branch's manager
    "executive",
    "logistics",  # an integration's API key of role logistics
    "revoked",  # Zhang's own device, signed out
    "anonymous",  # no token
)
USERNAMES = {
    "owner": "zhang", "peer": "li", "stranger": "chen", "manager": "wang", "other_manager": "zhao",
    "executive": "exec",
}


def _signed_in(user) -> ApiClient:
    device, token = device_token_issue(user=user, name="trust-phone")
    client = ApiClient(token)
    client.device, client.user = device, user
    return client


def make_persona(name: str, people: dict) -> ApiClient:
    if name in USERNAMES:
        return _signed_in(people[USERNAMES[name]])
    if name == "logistics":
        api_key, key = api_key_issue(name="trust-wms", role=Role.LOGISTICS)
        client = ApiClient(key)
        client.user = api_key.user
        return client
    if name == "revoked":
        client = _signed_in(people["zhang"])
        device_revoke(device=client.device, by=people["zhang"])
        return client
    client = ApiClient()
    client.user = None
    return client


@pytest.fixture
def persona_client(people):
    """`persona_client("peer")`: an API client as that caller."""
    return lambda name: make_persona(name, people)


def fingerprint() -> tuple:
    """Row counts of every history table (each business write adds a row), the texts and the
    notices: equal before and after means nothing was written."""
    history = sorted(
        (m for m in apps.get_models() if m.__name__.startswith("Historical")), key=lambda m: m._meta.label
    )
    counted = [*history, apps.get_model("notifications.Notification"), apps.get_model("sms_gateway.OutboundMessage")]
    return tuple((model._meta.label, model.objects.count()) for model in counted)
