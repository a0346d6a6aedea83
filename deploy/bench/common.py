"""What every benchmark shares: the stack's settings, a bounded load generator, percentiles, the
table printed at the end and the lines appended to RESULTS.md.

The load generator is a short asyncio client (aiohttp): `concurrency` workers each send the next
request as soon as their previous one is answered (a closed loop, like webhooks retried by a
provider that waits for each answer), until the request budget or the time budget runs out.
It only ever talks to loopback addresses.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "deploy" / "bench" / "RESULTS.md"
STACK_DIR = Path(os.environ.get("STACK_DIR", "/tmp/fieldline-stack"))
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Other work on the machine skews every figure: each run says how busy the machine was.
LOAD_AT_START = os.getloadavg()[0]


# --------------------------------------------------------------------------- the stack


def load_stack_env() -> None:
    """Take the local stack's settings (deploy/local-stack.sh writes them) unless already set."""
    env_file = STACK_DIR / "stack.env"
    if not env_file.exists():
        sys.exit(f"{env_file} not found: start the stack first (deploy/local-stack.sh start)")
    for line in env_file.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            os.environ.setdefault(name.strip(), value)


def django_setup() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    # The benchmark's own process logs only trouble: its tables are the output.
    os.environ["LOG_LEVEL"] = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def web_url(path: str = "") -> str:
    return os.environ["STACK_WEB_URL"].rstrip("/") + path


def get_json(url: str, *, method: str = "GET", timeout: float = 10) -> Any:
    assert_loopback(url)
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    with opener.open(request, timeout=timeout) as response:
        return json.load(response)


def assert_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK and not host.startswith("127."):
        raise SystemExit(f"refusing to send benchmark traffic to {host}: loopback only")


def metric_total(url: str, name: str, labels: dict[str, str] | None = None) -> float:
    """Sum of one Prometheus series family on a /metrics page (all label sets matching `labels`)."""
    assert_loopback(url)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        text = response.read().decode()
    wanted = [f'{k}="{v}"' for k, v in (labels or {}).items()]
    total = 0.0
    for line in text.splitlines():
        if (line.startswith(name + "{") or line.startswith(name + " ")) and all(w in line for w in wanted):
            total += float(line.rsplit(" ", 1)[1])
    return total


# The stack's processes, each with all its children: not the load generator nor the stand-in for
# Twilio. Unlike throughput, their CPU per request hardly moves when other work shares the machine.
STACK_PROCESSES = ("web", "worker", "beat", "redis", "postgresql")


def cpu_seconds(*names: str) -> dict[str, float]:
    """CPU time used so far by each of the stack's processes named, with all its children."""
    stats = _processes()
    used = {}
    for name in names:
        pid_file = STACK_DIR / "pg" / "postmaster.pid" if name == "postgresql" else STACK_DIR / "run" / f"{name}.pid"
        roots = {int(pid_file.read_text().split()[0])} if pid_file.exists() else set()
        wanted, frontier = set(roots), set(roots)
        while frontier:
            frontier = {pid for pid, (ppid, _) in stats.items() if ppid in frontier} - wanted
            wanted |= frontier
        used[name] = sum(stats[pid][1] for pid in wanted if pid in stats) / os.sysconf("SC_CLK_TCK")
    return used


def web_connections(url: str) -> list[int]:
    """The load's connections held by each web process, most first ([] when `ss` cannot tell).
    The kernel hands each new connection to one worker's socket by a hash (backend.serve), and a
    worker runs its Python on one core at a time: an endpoint that costs little beyond the request,
    like the floor, is fastest when the split is even."""
    pid_file, port = STACK_DIR / "run" / "web.pid", urlsplit(url).port
    if not pid_file.exists() or port is None:
        return []
    try:
        listening, established = (_sockets(state, port) for state in ("listening", "established"))
    except (OSError, subprocess.SubprocessError):
        return []
    supervisor = int(pid_file.read_text().split()[0])
    workers = [pid for pid, (ppid, _) in _processes().items() if ppid == supervisor and f"pid={pid}," in listening]
    return sorted((established.count(f"pid={pid},") for pid in workers), reverse=True)


def _sockets(state: str, port: int) -> str:
    """`ss`'s lines for the TCP sockets on local `port` in `state`, with their processes."""
    return subprocess.run(["ss", "-Htnp", "state", state, f"( sport = :{port} )"], capture_output=True, text=True,
                          timeout=10, check=True).stdout


def _processes() -> dict[int, tuple[int, int]]:
    """Every process: its parent and the CPU it used so far (clock ticks)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime + stime
    return stats


def wait_worker_idle(timeout: float = 120) -> None:
    """Until the Celery broker holds no task, waiting or taken: work a request handed over
    (notices, dashboard pushes) is part of what that request cost."""
    import redis

    broker = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker.llen("celery") == 0 and broker.hlen("unacked") == 0:
            return
        time.sleep(0.2)


# --------------------------------------------------------------------------- load


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes | str | None = None
    # Says whether the answer is what a user would accept; a failed check counts as an error.
    check: Callable[[int, str], bool] = lambda status, body: 200 <= status < 300


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, successful and failed alike
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    cpu_by_process: dict[str, float] = field(default_factory=dict)  # seconds the stack's processes spent meanwhile
    connections: list[int] = field(default_factory=list)  # the load's, per web process (web_connections)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def seconds(self) -> float:
        return max(self.finished - self.started, 1e-9)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return sum(self.cpu_by_process.values()) * 1000 / max(self.count, 1)

    def cpu_ms_per_request_of(self, name: str) -> float:
        return self.cpu_by_process.get(name, 0.0) * 1000 / max(self.count, 1)


async def _drive(
    url: str, requests: Iterator[Request], concurrency: int, max_requests: int, max_seconds: float, progress: Any,
    settle: Callable[[], None] | None,
) -> Outcome:
    import aiohttp

    outcome = Outcome()
    if settle is not None:
        settle()  # what earlier requests handed over is theirs, not this run's
    cpu_before = cpu_seconds(*STACK_PROCESSES)
    deadline = time.monotonic() + max_seconds
    budget = iter(range(max_requests))
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline and next(budget, None) is not None:
            try:
                request = next(requests)
            except StopIteration:
                return
            begun = time.perf_counter()
            try:
                async with session.request(
                    request.method, request.url, headers=request.headers, data=request.data
                ) as response:
                    body = await response.text()
                    ok = request.check(response.status, body)
                    detail = f"{response.status} {body[:160]!r}"
            except (TimeoutError, aiohttp.ClientError) as error:
                ok, detail = False, repr(error)
            outcome.latencies.append(time.perf_counter() - begun)
            if not ok:
                outcome.errors += 1
                if len(outcome.error_samples) < 5:
                    outcome.error_samples.append(detail)
            progress.update(1)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False) as session:
        outcome.started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        outcome.finished = time.perf_counter()
        outcome.connections = web_connections(url)  # still open, kept alive by the session
    if settle is not None:
        settle()
    cpu_after = cpu_seconds(*STACK_PROCESSES)
    outcome.cpu_by_process = {name: cpu_after[name] - cpu_before[name] for name in STACK_PROCESSES}
    return outcome


def run_load(
    requests: Iterator[Request], *, concurrency: int, max_requests: int, max_seconds: float, label: str,
    settle: Callable[[], None] | None = None,
) -> Outcome:
    """Send `requests` with `concurrency` in flight, at most `max_requests` and `max_seconds`;
    `settle` runs before the stack's CPU time is read (to count work the requests handed over)."""
    from tqdm import tqdm

    first = next(requests)
    assert_loopback(first.url)
    chained = _prepend(first, requests)
    with tqdm(total=max_requests, desc=label, unit="req", leave=False, file=sys.stderr, mininterval=1.0) as progress:
        try:
            import uvloop

            runner: Any = uvloop.run
        except ImportError:
            runner = asyncio.run
        return runner(_drive(first.url, chained, concurrency, max_requests, max_seconds, progress, settle))


def _prepend(first: Request, rest: Iterator[Request]) -> Iterator[Request]:
    yield first
    yield from rest


# --------------------------------------------------------------------------- figures


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table: readable in the terminal and in RESULTS.md alike."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    return "\n".join([line(cells[0]), "| " + " | ".join("-" * w for w in widths) + " |", *map(line, cells[1:])])


def machine() -> str:
    """Where the figures were measured: they mean nothing without it."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{socket.gethostname()}: {os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}"


def stack() -> str:
    """How the local stack ran: the figures depend on it."""
    env = os.environ
    if "STACK_WEB_URL" not in env:
        return "not the local stack"
    pool = f"pool of {env.get('DB_POOL_MAX_SIZE', '10')}" if env.get("DB_POOL", "").lower() == "true" else "no pool"
    return (f"{env.get('WEB_WORKERS', '?')} uvicorn workers, Celery {env.get('CELERY_POOL', 'prefork')} x "
            f"{env.get('CELERY_CONCURRENCY', '?')}, PostgreSQL {pool}, Redis")


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def record(title: str, command: str, body: str) -> None:
    """Print the figures and append them, dated and with the machine, to RESULTS.md."""
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    section = (
        f"\n### {title} — {stamp}\n\n"
        f"Machine: {machine()}; revision {git_revision()}.\n"
        f"Stack: {stack()}.\n"
        f"Load average (1 min): {LOAD_AT_START:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.\n"
        f"Command: `{command}`\n\n{body}\n"
    )
    print(section)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nAppended by the commands in deploy/bench (see its README).\n")
    with RESULTS.open("a") as results:
        results.write(section)


def command_line() -> str:
    return "python " + " ".join([str(Path(sys.argv[0]).resolve().relative_to(ROOT)), *sys.argv[1:]])
