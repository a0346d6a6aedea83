"""PostgreSQL restarted under load (issue 8.4). The test makes its own throwaway cluster on a free
loopback port (initdb and pg_ctl as the `postgres` user), serves Fieldline from it with uvicorn,
sends sales through the API and texts through the signed webhook from several threads, and
restarts PostgreSQL in the middle. Requests during the outage fail cleanly (a JSON 503 from the
API, a 5xx from the webhook, never a hang), the server recovers by itself, and nothing is
half-written: replaying each failed request gives exactly one sale per request, none lost."""

import contextlib
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.fakes.twilio_server import signed_headers

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
AUTH_TOKEN = "pg-restart-secret"
THREADS = 4
MAX_REQUESTS_PER_THREAD = 200

pytestmark = pytest.mark.skipif(
    not PG_BIN or os.geteuid() != 0 or shutil.which("runuser") is None,
    reason="needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) and root to run them as `postgres`",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster of the test's own, fast and disposable (fsync off, trust on loopback)."""

    def __init__(self) -> None:
        self.bin = Path(PG_BIN[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="fieldline-pg-"))
        self.data, self.port = self.dir / "data", _free_port()
        shutil.chown(self.dir, "postgres")
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/fieldline"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / tool), *args], check=True,
                       capture_output=True, timeout=120)

    def pg_ctl(self, action: str, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} -c fsync=off"
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options, "-w", *args, action)

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def _env(cluster: Cluster, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    return {**env, "DATABASE_URL": cluster.url, "DB_CONN_MAX_AGE": "60", "DEBUG": "false",
            "SMS_PROVIDER": "locmem", "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "CELERY_TASK_ALWAYS_EAGER": "true",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "ERROR"}


def _django(env: dict[str, str], code: str) -> str:
    """Run `code` with Django set up against the cluster; its stdout."""
    prelude = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'backend.settings'); django.setup()\n"
    )
    done = subprocess.run([sys.executable, "-c", prelude + code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


BOOTSTRAP = """
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
with connection.cursor() as cursor:
    pass
settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}  # tables from the models
call_command("migrate", run_syncdb=True, verbosity=0)
from backend.reports import demo
demo.seed()
from backend.org.models import User
from backend.org.services import device_token_issue
print(device_token_issue(user=User.objects.get(username="zhang"), name="load")[1])
"""

SUMMARY = """
import json
from backend.core.models import FieldReport
from backend.sales.models import Reward, Sale
from sms_gateway.inbound import process
from sms_gateway.models import InboundMessage, InboundStatus
from mobile_api.models import IdempotencyRecord
# What a crash left `received` or `failed` is run again, as the sweeper and sms_reprocess do.
stuck = InboundMessage.objects.filter(status__in=[InboundStatus.RECEIVED, InboundStatus.FAILED])
for pk in stuck.values_list("pk", flat=True):
    process(pk, inline=False)
print(json.dumps({
    "idempotency_keys": sorted(IdempotencyRecord.objects.values_list("key", flat=True)),
    "api_sale_refs": sorted(set(Sale.objects.filter(channel="app").values_list("reference", flat=True))),
    "api_keyed_refs": sorted(json.loads(bytes(r.body))["reference"] for r in IdempotencyRecord.objects.all()),
    "sms": {m.provider_id: [m.status, m.reference] for m in InboundMessage.objects.all()},
    "sms_sales": {ref: Sale.objects.filter(reference=ref).count()
                  for ref in InboundMessage.objects.exclude(reference="").values_list("reference", flat=True)},
    "sales_without_reward": Sale.objects.filter(reward__isnull=True, channel__in=["app", "sms"]).count(),
    "reports_without_sales": FieldReport.objects.filter(kind="S").exclude(
        pk__in=[int(r[1:]) - FieldReport.OFFSET for r in Sale.objects.values_list("reference", flat=True)]).count(),
}))
"""


def _request(url: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, bytes, dict]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with opener.open(request, timeout=15) as response:
            return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, error.read(), {k.lower(): v for k, v in error.headers.items()}
    except OSError as error:  # the server itself must never drop us: recorded and failed below
        return 0, str(error).encode(), {}


class Load:
    """Sales through the API (each with its own Idempotency-Key) and texts through the webhook."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.answers: list[tuple[str, str, int, bytes, dict, int]] = []  # kind, key, status, body, headers, thread
        self.lock = threading.Lock()
        self.done = threading.Event()

    def sale(self, key: str) -> tuple[int, bytes, dict]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                   "Idempotency-Key": key}
        return _request(f"{self.base}/api/v1/sales", json.dumps({"product": "BCD470"}).encode(), headers)

    def text(self, sid: str, sender: str) -> tuple[int, bytes, dict]:
        params = {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": "SOLD BCD470 1"}
        url = f"{self.base}/sms/twilio/inbound"
        return _request(url, urlencode(params).encode(), signed_headers(url, params, AUTH_TOKEN))

    def run(self, worker: int) -> None:
        senders = ["+8613800000001", "+8613800000002", "+8613800000003"]
        n = 0
        while not self.done.is_set() and n < MAX_REQUESTS_PER_THREAD:
            if n % 3 == 2:
                key = f"SMload{worker}x{n}"
                answer = ("sms", key, *self.text(key, senders[(worker + n) % 3]), worker)
            else:
                key = f"load-{worker}-{n}-{uuid.uuid4().hex[:6]}"
                answer = ("api", key, *self.sale(key), worker)
            with self.lock:
                self.answers.append(answer)
            n += 1
            time.sleep(0.05)


@pytest.fixture
def cluster():
    made = Cluster()
    made.pg_ctl("start")
    subprocess.run(["runuser", "-u", "postgres", "--", str(made.bin / "createdb"), "-h", "127.0.0.1", "-p",
                    str(made.port), "fieldline"], check=True, capture_output=True, timeout=60)
    yield made
    made.remove()


@pytest.fixture
def server(cluster):
    port = _free_port()
    env = _env(cluster, port)
    token = _django(env, BOOTSTRAP).strip().splitlines()[-1]
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "backend.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--lifespan", "off", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(cluster.dir / "server.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while _request(f"{base}/healthz", None, {})[0] != 200:
        assert time.monotonic() < deadline and process.poll() is None, "the server did not start"
        time.sleep(0.2)
    yield base, token, env
    process.terminate()
    process.wait(timeout=20)


def test_postgres_restarted_mid_load_fails_cleanly_and_recovers_with_nothing_half_written(cluster, server):
    base, token, env = server
    load = Load(base, token)
    threads = [threading.Thread(target=load.run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    cluster.pg_ctl("stop", "-m", "fast")  # every open connection of the server dies here
    time.sleep(1.5)
    cluster.pg_ctl("start")
    time.sleep(2.0)  # traffic goes on after the restart: the server must recover by itself
    load.done.set()
    for thread in threads:
        thread.join(timeout=120)

    answers = load.answers
    statuses = {a[2] for a in answers}
    failed = [a for a in answers if a[2] >= 500]
    assert failed, "the restart happened while requests were coming in"
    assert statuses <= {200, 201, 500, 503}, statuses  # an answer every time, never a dropped connection
    for kind, _key, status, body, headers, _ in failed:
        if kind == "api":  # the API's errors are JSON, and say when to come back
            assert status == 503 and json.loads(body)["code"] == "unavailable" and headers.get("retry-after")
        assert b"Traceback" not in body
    for thread in range(THREADS):  # recovered without a restart of the server: each thread's last went through
        assert [a[2] for a in answers if a[5] == thread][-1] in (200, 201)

    # The clients retry what failed, as phones and Twilio do.
    for kind, key, *_ in failed:
        retried = load.sale(key) if kind == "api" else load.text(key, "+8613800000001")
        assert retried[0] in (200, 201), retried

    summary = json.loads(_django(env, SUMMARY).strip().splitlines()[-1])
    print(f"PostgreSQL restart: {len(answers)} requests, {len(failed)} failed cleanly and were retried")
    api_keys = sorted(a[1] for a in answers if a[0] == "api")
    assert summary["idempotency_keys"] == api_keys  # every sale request recorded exactly once
    assert summary["api_keyed_refs"] == summary["api_sale_refs"]  # and each is exactly one report
    assert len(summary["api_sale_refs"]) == len(api_keys)
    sms_sids = sorted(a[1] for a in answers if a[0] == "sms")
    assert sorted(summary["sms"]) == sms_sids  # every text kept
    assert all(status in ("processed", "rejected") for status, _ in summary["sms"].values()), summary["sms"]
    assert all(count == 1 for count in summary["sms_sales"].values())
    assert summary["sales_without_reward"] == 0 and summary["reports_without_sales"] == 0
