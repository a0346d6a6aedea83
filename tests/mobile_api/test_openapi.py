"""The OpenAPI document validates; every operation has a summary and an example."""

import pytest
from openapi_spec_validator import validate

from mobile_api.idempotency import HEADER


@pytest.fixture
def schema(anonymous, db):
    answer = anonymous.get("/openapi.json")
    assert answer.status_code == 200
    return answer.json()


def _operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def _has_example(schema, node):
    if "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].split("/")[-1]]
    if node.get("type") == "array":
        return _has_example(schema, node["items"])
    return bool(node.get("examples") or node.get("example"))


def test_the_document_is_valid_openapi(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")


def test_every_operation_has_a_summary_and_examples(schema):
    operations = list(_operations(schema))
    assert len(operations) > 30
    for path, method, operation in operations:
        assert operation.get("summary"), (method, path)
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            assert _has_example(schema, body["schema"]), (method, path, "request")
        ok = [r for code, r in operation["responses"].items() if code.startswith("2")]
        assert ok, (method, path)
        for response in ok:
            json_body = response.get("content", {}).get("application/json")  # none for a file download
            assert json_body is None or _has_example(schema, json_body["schema"]), (method, path)


def test_every_signed_in_post_takes_an_idempotency_key(schema):
    for path, method, operation in _operations(schema):
        if method == "post" and operation.get("security"):
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            assert HEADER in names, path


def test_interactive_docs_are_served(anonymous, db):
    assert anonymous.client.get("/api/v1/docs").status_code == 200
