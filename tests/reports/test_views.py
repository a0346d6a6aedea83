import csv
import io

import pytest
from django.test import Client

from backend.org.models import User
from backend.reports.figures import FIGURES

pytestmark = pytest.mark.django_db


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        # As stored: the session keeps a hash of the stored password.
        client.force_login(User.objects.get(pk=user.pk))
    return client


def test_the_dashboard_signs_in_through_the_admin_login(world):
    response = _client().get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/dashboard/"


def test_reps_may_not_open_the_dashboard(world):
    assert _client(world.a).get("/dashboard/").status_code == 403
    assert _client(world.a).get("/dashboard/data.json").status_code == 403
    assert _client(world.a).get("/dashboard/csv/rep-day.csv").status_code == 403


def test_a_manager_sees_the_page_with_the_team_figures(world):
    response = _client(world.m1).get("/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    for chart in ("chart-region", "chart-product", "chart-funnel", "chart-forecast", "chart-fulfilment"):
        assert f'id="{chart}"' in page
    assert "reports/vendor/chartjs-4.5.1/chart.umd.min.js" in page
    assert 'data-ws-path="/ws/v1/dashboard"' in page
    assert "Mia One&#x27;s team" in page or "Mia One's team" in page
    assert "Cai C" not in page  # another manager's rep


def test_the_data_follow_the_scope_and_the_chosen_period(world):
    data = _client(world.m2).get("/dashboard/data.json", {"day": "2025-06-17", "months": "3"}).json()
    assert (data["day"], data["months"]) == ("2025-06-17", 3)
    assert [r["rep"] for r in data["figures"]["rep-day"]] == ["Cai C"]
    assert [(r["month"], r["label"], r["units"]) for r in data["figures"]["sales-by-region"]] == [
        ("2025-06-01", "South", 2),
    ]
    everyone = _client(world.boss).get("/dashboard/data.json").json()["figures"]
    assert {r["label"] for r in everyone["sales-by-region"]} == {"North", "South"}
    assert [r["name"] for r in everyone["stalled-deals"]] == ["O5", "O4"]


def test_bad_parameters_answer_400(world):
    response = _client(world.m1).get("/dashboard/data.json", {"months": "99"})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_parameters"
    assert _client(world.m1).get("/dashboard/data.json", {"day": "yesterday"}).status_code == 400


def test_every_figure_downloads_as_csv(world):
    client = _client(world.boss)
    for name, figure in FIGURES.items():
        response = client.get(f"/dashboard/csv/{name}.csv", {"day": "2025-06-18", "months": "3"})
        assert response.status_code == 200, name
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0] == figure.columns, name
    assert client.get("/dashboard/csv/nothing.csv").status_code == 404


def test_csv_rows_hold_the_figures(world):
    response = _client(world.boss).get("/dashboard/csv/sales-by-region.csv", {"months": "3"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["month"], r["label"], r["units"], r["revenue"]) for r in rows] == [
        ("2025-04-01", "North", "3", "3000.00"),
        ("2025-05-01", "North", "6", "4000.00"),
        ("2025-06-01", "North", "2", "1500.00"),
        ("2025-06-01", "South", "2", "2000.00"),
    ]
    assert response["Content-Disposition"] == 'attachment; filename="sales-by-region-20250618.csv"'


def test_the_page_reads_less_of_a_long_figure_and_the_csv_has_it_all(world, monkeypatch):
    from backend.reports import figures

    monkeypatch.setattr(figures, "STALLED_ON_PAGE", 1)
    monkeypatch.setattr(figures, "CUSTOMERS_AT_EACH_END", 1)
    client = _client(world.boss)
    page = client.get("/dashboard/data.json", {"months": "3"}).json()["figures"]
    assert [r["name"] for r in page["stalled-deals"]] == ["O5"]  # the longest idle
    assert [r["name"] for r in page["customer-value"]] == ["Alpha Co", "Beta Two"]  # most and least profitable
    assert {r["level"] for r in page["forecast-accuracy"]} == {"all"}

    def csv_rows(name: str) -> list[dict]:
        response = client.get(f"/dashboard/csv/{name}.csv", {"months": "3"})
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert [r["name"] for r in csv_rows("stalled-deals")] == ["O5", "O4"]
    assert [r["name"] for r in csv_rows("customer-value")] == ["Alpha Co", "Gamma Co", "Beta Co", "Beta Two"]
    assert {r["level"] for r in csv_rows("forecast-accuracy")} == {"all", "team", "rep"}
