"""API.md: errors are JSON, also for a path no route has."""

import pytest


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_path_no_route_has_answers_the_apis_json_404(anonymous, db, method):
    answer = getattr(anonymous, method)("/no-such-thing/42")

    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {"detail": "Not found.", "code": "not_found"}


def test_the_routes_still_answer(anonymous, db):
    assert anonymous.get("/openapi.json").status_code == 200
