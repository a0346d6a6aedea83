from decimal import Decimal as D

import pytest

from tests.reports.conftest import clock, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_a_manager_reads_the_team_figures_on_the_phone(world, api_as):  # noqa: F811
    api = api_as(world.m1)
    response = api.get("/reports/rep-day")
    assert response.status_code == 200
    assert [(r["rep"], r["units"], r["visits"]) for r in response.json()] == [("Ann A", 1, 2), ("Ben B", 0, 0)]
    sales = api.get("/reports/sales", {"by": "product", "months": 2}).json()
    assert [(r["month"], r["label"], r["units"]) for r in sales] == [
        ("2025-05-01", "P1", 2), ("2025-05-01", "P2", 4), ("2025-06-01", "P1", 1), ("2025-06-01", "P2", 1),
    ]


def test_the_executive_reads_the_pipeline(world, api_as):  # noqa: F811
    api = api_as(world.boss)
    accuracy = api.get("/reports/pipeline/accuracy", {"months": 1}).json()
    assert [(r["level"], r["name"], D(r["forecast"]), D(r["actual"]), r["accuracy_pct"]) for r in accuracy][:1] == [
        ("all", "All", D("59000"), D("20000"), 33.9),
    ]
    funnel = api.get("/reports/pipeline/funnel").json()
    assert [(r["stage"], r["deals"]) for r in funnel] == [("Lead", 1), ("Demo", 2), ("Contract", 1)]
    stalled = api.get("/reports/stalled-deals").json()
    assert [(r["name"], r["suggestion"]) for r in stalled] == [("O5", "abandon"), ("O4", "advance")]
    gaps = api.get("/reports/stakeholder-gaps", {"min_amount": "45000"}).json()
    assert [r["name"] for r in gaps] == ["O5"]
    for path in ("/reports/growth", "/reports/hot-products", "/reports/fulfilment", "/reports/pipeline/forecast",
                 "/reports/pipeline/conversion", "/reports/pipeline/time-in-stage", "/reports/pipeline/win-rates",
                 "/reports/customers", "/reports/falling-accounts", "/reports/alerts", "/reports/conflicts"):
        assert api.get(path).status_code == 200, path


def test_reps_and_strangers_get_no_figures(world, api_as, anonymous):  # noqa: F811
    response = api_as(world.a).get("/reports/rep-day")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"
    assert anonymous.get("/reports/rep-day").status_code == 401


def test_bad_parameters_answer_422(world, api_as):  # noqa: F811
    api = api_as(world.m1)
    assert api.get("/reports/sales", {"months": 0}).status_code == 422
    assert api.get("/reports/sales", {"by": "planet"}).status_code == 422
