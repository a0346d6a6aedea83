"""The benchmark harness's arithmetic and its loopback guard."""

import os
import shutil
import socket
import subprocess
import sys
import time
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


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
def test_the_loads_connections_are_counted_per_web_process(tmp_path, monkeypatch):
    """Two "web processes" (children of the pid in web.pid listening on the port) share four
    connections as the kernel hands them out; a third child, not listening, is not one of them."""
    server = (
        "import socket, sys, threading, time\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n"
        "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); print('ready', flush=True)\n"
        "held = []\n"
        "threading.Thread(target=lambda: [held.append(s.accept()[0]) for _ in iter(int, 1)], daemon=True).start()\n"
        "time.sleep(30)\n"
    )
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "web.pid").write_text(str(os.getpid()))
    monkeypatch.setattr(common, "STACK_DIR", tmp_path)
    children = [subprocess.Popen([sys.executable, "-c", server, str(port)], stdout=subprocess.PIPE, text=True)
                for _ in range(2)]
    children.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]))
    clients = []
    try:
        for child in children[:2]:
            child.stdout.readline()
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
        deadline = time.monotonic() + 10
        while sum(counts := common.web_connections(f"http://127.0.0.1:{port}/sms")) < 4:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)  # until the servers have accepted them all
    finally:
        for child in children:
            child.kill()
            child.wait()
        for client in clients:
            client.close()

    assert len(counts) == 2 and sum(counts) == 4 and counts == sorted(counts, reverse=True)
