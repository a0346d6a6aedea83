"""Pacing keeps one sender under its rate across every caller."""

import shutil
import socket
import subprocess
import threading
import time

import pytest
import redis

from backend.core import pacing


def test_no_limit_never_waits(settings):
    settings.REDIS_URL = ""
    assert pacing.pace("tests:none", 0) == 0


def _busiest_second(starts: list[float]) -> int:
    return max(sum(1 for t in starts if first <= t < first + 1) for first in starts)


def test_no_second_holds_more_calls_than_the_rate(settings):
    settings.REDIS_URL = ""
    key = f"tests:{time.monotonic()}"
    starts: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        pacing.pace(key, 20)
        with lock:
            starts.append(time.monotonic())

    threads = [threading.Thread(target=call) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    assert _busiest_second(starts) <= 20
    assert starts[-1] - starts[0] >= 29 / 20  # evenly spaced, at least 1/20 s apart


@pytest.fixture
def redis_url(tmp_path):
    """A throwaway redis-server on a free loopback port (Debian's redis-server package)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(5)


def test_with_redis_every_caller_shares_one_schedule(settings, redis_url, monkeypatch):
    settings.REDIS_URL = redis_url
    monkeypatch.setattr(pacing, "_script", None)
    started = time.monotonic()
    waits = [pacing.pace("tests:shared", 10) for _ in range(5)]
    # The first goes at once; each next one waits for its start, 0.125 s after the one before.
    assert waits[0] == 0
    assert all(0 < wait <= 0.135 for wait in waits[1:])
    assert time.monotonic() - started >= 4 * 0.125 * 0.95


def test_below_one_a_second_starts_are_further_apart(settings):
    settings.REDIS_URL = ""
    key = f"tests:slow:{time.monotonic()}"
    assert pacing.pace(key, 0.5) == 0
    assert pacing._take_local(key, 2 * pacing._MARGIN) == pytest.approx(2.5, abs=0.05)
