"""`python -m backend.serve`: the web workers each listen on a socket of their own, so kept-alive
connections spread over all of them; a worker that dies is started again; TERM stops them all."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    # multiprocessing's resource tracker is a child too; the workers are the ones holding sockets
    return [int(child) for child in children if _socket_inodes(int(child))]


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _established_to(port: int) -> set[str]:
    """Inodes of the server side of established connections on `port`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
            inodes.add(fields[9])
    return inodes


def _get(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    return response.status


def _wait_until_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _get(http.client.HTTPConnection("127.0.0.1", port, timeout=5)) == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("backend.serve did not answer")


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    env = {**os.environ, "DJANGO_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "REDIS_URL": "", "CELERY_TASK_ALWAYS_EAGER": "true"}
    server = subprocess.Popen(
        [sys.executable, "-m", "backend.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(port)
        deadline = time.monotonic() + 30
        while len(_children(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        yield server, port
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)


def test_kept_alive_connections_are_spread_over_every_worker(served):
    server, port = served
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(32)]
    assert all(_get(connection) == 200 for connection in connections)

    open_ones = _established_to(port)
    per_worker = [len(_socket_inodes(worker) & open_ones) for worker in _children(server.pid)]

    # uvicorn --workers gave 30 and 2 here; the kernel's hash gives each about half (below 6:
    # about one run in 25,000)
    assert sum(per_worker) == 32
    assert len(per_worker) == 2 and min(per_worker) >= 6, per_worker
    for connection in connections:
        connection.close()


def test_a_worker_that_dies_is_started_again_and_term_stops_them_all(served):
    server, port = served
    first, second = _children(server.pid)
    os.kill(first, signal.SIGKILL)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sorted(_children(server.pid)) in ([second], [first, second]):
        time.sleep(0.3)
    assert len(_children(server.pid)) == 2 and first not in _children(server.pid)
    _wait_until_up(port)

    workers = _children(server.pid)
    server.send_signal(signal.SIGTERM)
    assert server.wait(30) == 0
    assert not any(Path(f"/proc/{worker}").exists() for worker in workers)
