"""The benchmark harness's arithmetic and its loopback guard."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "bench"))

import common  # noqa: E402


def test_percentiles_interpolate_between_ranks():
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert common.percentile(values, 50) == pytest.approx(50.5)
    assert common.percentile(values, 99) == pytest.approx(99.01)
    assert common.percentile([3.0], 99) == 3.0


def test_a_table_is_markdown_with_aligned_columns():
    text = common.table(["c", "msg/s"], [[1, "21.4"], [64, "300.0"]])
    assert text.splitlines() == [
        "| c  | msg/s |",
        "| -- | ----- |",
        "| 1  | 21.4  |",
        "| 64 | 300.0 |",
    ]


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000/x", "https://example.com/", "http://192.168.1.2/"])
def test_traffic_goes_to_loopback_only(url):
    with pytest.raises(SystemExit):
        common.assert_loopback(url)


def test_loopback_addresses_pass():
    for url in ("http://127.0.0.1:8700/sms", "http://localhost:1/", "http://127.0.0.2/"):
        common.assert_loopback(url)


def test_the_load_generator_stops_at_its_request_budget(live_server):
    requests = iter(common.Request("GET", live_server.url + "/healthz") for _ in range(1000))
    outcome = common.run_load(requests, concurrency=4, max_requests=40, max_seconds=30, label="test")
    assert outcome.count == 40
    assert outcome.errors == 0
