"""Bad input, generated (issue 8.1). The parser's own properties are in tests/sms_gateway/test_parser.py;
here the same generated texts go through the whole signed webhook, and every input schema of the
API gets hostile JSON: wrong types, huge and deeply nested values, NUL bytes, lone surrogates,
unknown fields. The answer is always a clear 4xx (or success), in the API's error shape; a text is
always stored, answered, and never left `failed`."""

import json
import uuid

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ninja import Schema
from pydantic import ValidationError

from backend.org.services import device_token_issue
from mobile_api.api import api
from sms_gateway.models import InboundMessage, InboundStatus
from sms_gateway.segments import count
from tests.factories import RepFactory
from tests.mobile_api.conftest import ApiClient
from tests.sms_gateway.test_parser import TODAY, any_text, valid_commands
from tests.trust.conftest import AUTH_TOKEN, SERVICE_NUMBER, make_persona, signed_post

pytestmark = pytest.mark.django_db

BOUNDED = settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))

# JSON as a hostile client sends it: any shape, odd strings, big numbers.
odd_strings = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "' OR 1=1 --", "<script>", "%00", "../../etc/passwd", "１２３",
                     "销售", "\u202e", "9" * 400, " ", ""]),
    st.text(min_size=2000, max_size=4000),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
              st.floats(allow_nan=False, allow_infinity=False), odd_strings),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)


def _schema_classes() -> dict[str, type[Schema]]:
    """The API's schema classes by name (their names are the OpenAPI component names)."""
    import importlib
    import pkgutil

    import mobile_api.schemas as package

    found = {}
    for module in pkgutil.iter_modules(package.__path__):
        for value in vars(importlib.import_module(f"{package.__name__}.{module.name}")).values():
            if isinstance(value, type) and issubclass(value, Schema) and value is not Schema:
                found[value.__name__] = value
    return found


def _body_ops() -> list[tuple[str, str, type[Schema]]]:
    """(method, path, input schema) of every operation that takes a JSON body."""
    schema, classes = api.get_openapi_schema(), _schema_classes()
    ops = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            if ref:
                ops.append((method.upper(), path.removeprefix("/api/v1"), classes[ref.rsplit("/", 1)[-1]]))
    return ops


BODY_OPS = _body_ops()
INPUT_SCHEMAS = sorted({model for _, _, model in BODY_OPS}, key=lambda model: model.__name__)


def test_every_operation_with_a_body_is_covered():
    operations = api.get_openapi_schema()["paths"].values()
    with_body = [op for methods in operations for op in methods.values() if op.get("requestBody")]
    assert len(BODY_OPS) == len(with_body) >= 20


def _shaped_like(model: type[Schema]):
    """Dicts with the model's own field names (so validation goes past the first key) and any values."""
    fields = sorted(model.model_fields)
    return st.dictionaries(st.sampled_from(fields), json_values, max_size=len(fields)) if fields else st.just({})


@pytest.mark.parametrize("model", INPUT_SCHEMAS, ids=lambda m: m.__name__)
@BOUNDED
@given(data=st.data())
def test_an_input_schema_accepts_or_refuses_cleanly_and_round_trips(model, data):
    value = data.draw(st.one_of(json_values, _shaped_like(model)))
    try:
        parsed = model.model_validate(value)
    except ValidationError:
        return
    dumped = parsed.model_dump(mode="json")
    assert model.model_validate(json.loads(json.dumps(dumped))) == parsed


def _concrete(path: str) -> str:
    """Path ids that do not exist: the body is what is under test."""
    return (path.replace("{device_id}", "999999").replace("{customer_id}", str(uuid.uuid4()))
            .replace("{contact_id}", str(uuid.uuid4())).replace("{opportunity_id}", str(uuid.uuid4()))
            .replace("{activity_id}", str(uuid.uuid4())).replace("{order_id}", str(uuid.uuid4()))
            .replace("{notification_id}", str(uuid.uuid4())).replace("{tip_id}", str(uuid.uuid4()))
            .replace("{conflict_id}", str(uuid.uuid4())))


def _hostile(client: ApiClient, method: str, path: str, model: type[Schema]):
    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(body=st.one_of(json_values, _shaped_like(model)))
    def send(body):
        raw = json.dumps(body)
        call = client.client.patch if method == "PATCH" else client.client.post
        response = call(f"/api/v1{_concrete(path)}", raw, content_type="application/json",
                        headers={"Authorization": f"Bearer {client.token}"})
        assert response.status_code < 500, (method, path, raw[:300], response.content[:300])
        if response.status_code >= 400:
            answer = response.json()
            assert answer["detail"] and answer["code"], answer

    return send


def test_hostile_bodies_on_every_operation_get_a_clear_answer(people):
    zhang = make_persona("owner", people)
    for method, path, model in BODY_OPS:
        _hostile(zhang, method, path, model)()


MALFORMED = [b"", b"{", b"[]", b"null", b'"x"', b"\xff\xfe", b'{"a": NaN}', b"{" * 5000,
             b'{"name": "' + b"x" * 3_000_000 + b'"}']
HOSTILE_QUERIES = ["q=%00", "q=" + "x" * 5000, "phone=%00%00", "region=%ff", "cursor=%00", "cursor=!!!", "limit=-1",
                   "limit=99999999999999999999", "q=%E2%80%AE"]
LISTS = ("/customers", "/contacts", "/sales", "/orders", "/activities", "/tips", "/sync", "/notifications")


@pytest.fixture
def rep():
    device, token = device_token_issue(user=RepFactory(), name="fuzz")
    return ApiClient(token)


def test_malformed_json_is_a_clear_4xx(rep):
    for raw in MALFORMED:
        response = rep.client.post("/api/v1/customers", raw, content_type="application/json",
                                   headers={"Authorization": f"Bearer {rep.token}"})
        assert 400 <= response.status_code < 500, (raw[:40], response.content[:300])


def test_hostile_query_strings_get_a_clear_answer(rep):
    for query in HOSTILE_QUERIES:
        for path in LISTS:
            response = rep.client.get(f"/api/v1{path}?{query}", headers={"Authorization": f"Bearer {rep.token}"})
            assert response.status_code < 500, (path, query, response.content[:300])


# ---------------------------------------------------------------- SMS: the same texts, end to end

@pytest.fixture
def webhook(settings):
    settings.SMS_PROVIDER = "locmem"
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = ""
    return Client()


SENDERS = st.sampled_from(["+8613800000001", "+8613800000020", "+8613800000010", "+8613800000099", "not a number"])


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_text_from_anyone_is_stored_answered_and_never_failed(demo_data, webhook, data):
    body = data.draw(st.one_of(any_text, valid_commands(TODAY).map(lambda pair: pair[0]),
                               st.text(alphabet="\x00\uffff\u202e销售SOLD 0123456789", max_size=50)))
    body = body.encode("utf-8", "replace").decode()  # what a form post can carry (no lone surrogates)
    sender = data.draw(SENDERS)
    sid = f"SM{uuid.uuid4().hex}"
    params = {"MessageSid": sid, "From": sender, "To": SERVICE_NUMBER, "Body": body}

    response = signed_post(webhook, "/sms/twilio/inbound", params)

    assert response.status_code == 200, response.content[:300]
    message = InboundMessage.objects.get(provider_id=sid)
    assert message.status in (InboundStatus.PROCESSED, InboundStatus.REJECTED), message.error[-500:]
    if message.reply:
        assert count(message.reply).segments <= 2
    InboundMessage.objects.filter(pk=message.pk).update(received_at="2000-01-01T00:00:00Z")  # no rate limit
