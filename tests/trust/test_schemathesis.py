"""Every operation of `/api/v1/openapi.json` fuzzed by schemathesis (issue 8.1), with real tokens
for a rep and a manager: valid and invalid generated input, path ids that exist (Zhang's records)
and ids that do not. No answer is a 5xx, and every answer matches the schema: its status is
documented, its content type declared, its body valid against the response schema.

Bounded: EXAMPLES per operation and caller, no shrinking beyond what a failure needs, so the whole
file stays well under a minute on CI."""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.crm.models import Customer, Tip
from backend.crm.services import conflict_open
from backend.notifications.services import notify
from backend.sales.models import Order
from tests.trust.conftest import make_persona

pytestmark = pytest.mark.django_db

EXAMPLES = 8  # per operation and caller, a mix of valid input, invalid input and existing ids
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, called in the test's thread and transaction (as the test client does,
    the per-request connection clean-up is off, or it would close the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _real_ids(people: dict) -> dict[str, object]:
    """Path parameters that name existing records (in the caller's sight or not)."""
    zhang = people["zhang"]
    customer = Customer.objects.get(name="Wuhan Motors Ltd")
    return {
        "customer_id": str(customer.pk),
        "contact_id": str(customer.contacts.first().pk),
        "opportunity_id": str(customer.opportunities.first().pk) if customer.opportunities.exists() else None,
        "activity_id": str(zhang.activities.first().pk) if hasattr(zhang, "activities") else None,
        "order_id": str(Order.objects.get(number="PO-1001").pk),
        "notification_id": str(notify(recipient=zhang, kind="test", text="fuzz", sms=False).pk),
        "tip_id": str(Tip.objects.first().pk) if Tip.objects.exists() else None,
        "conflict_id": str(conflict_open(existing=customer, reported_by=people["li"], source="app",
                                         matched_on="phone").pk),
        "device_id": zhang.devices.first().pk if zhang.devices.exists() else 1,
        "user_id": zhang.pk,
        "kind": "customer",
        "record_id": str(customer.pk),
    }


def _strategy(operation, real: dict):
    """Valid and invalid input, with generated path ids and, half the time, ids that exist."""
    names = {p.name for p in operation.path_parameters}
    known = {name: real[name] for name in names if real.get(name) is not None}
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    if known:
        strategies += [operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=known)]
    return st.one_of(strategies)


def _fuzzer(operation, real: dict, token: str, tried: list):
    @FUZZ
    @given(case=_strategy(operation, real))
    def fuzz(case):
        tried.append(operation.label)
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    return fuzz


@pytest.mark.parametrize("persona", ["owner", "manager"])
def test_every_operation_answers_within_its_schema_and_never_5xx(persona, people, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    token = make_persona(persona, people).token
    real = _real_ids(people)
    failures: list[str] = []
    tried: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 70  # the whole API, not a corner of it

    for operation in operations:
        try:
            _fuzzer(operation, real, token, tried)()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - each failure is collected and shown
            failures.append(f"{operation.label}: {str(error)[:1500]}")

    assert not failures, "\n\n".join(failures)
    assert set(tried) == {operation.label for operation in operations}  # every operation got examples
    print(f"schemathesis as {persona}: {len(operations)} operations, {len(tried)} examples")

