"""Inbound SMS: signed Twilio webhooks against the local stack, and the same load against the
floor endpoint (signature check and one insert) in the same run.

    python deploy/bench/inbound.py [--levels 1,8,32,64] [--seconds 15] [--max-requests 5000]

The traffic is three SOLD (a fresh VIN each) for one SHIP and one STATUS, from 2,000 reps and
300 logistics numbers. An error is an answer other than 200 with TwiML, or a message that did not
end `processed` in the database. Prints a table and appends it to RESULTS.md.
"""

from __future__ import annotations

import argparse
import itertools
import random
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

# The goal of issue 7 at concurrency 32: half the floor's throughput, p99 under 250 ms, no error.
GOAL_LEVEL, GOAL_RATIO, GOAL_P99 = 32, 0.5, 0.250
CPU_PARTS = ("web", "worker", "postgresql")  # the stack's processes shown apart


MIX = ("SOLD", "SOLD", "SHIP", "SOLD", "STATUS")


def messages(run: str, level: int, kind: str, mix: tuple[str, ...] = MIX) -> Iterator[dict[str, str]]:
    """Twilio's form fields for an endless mix of SOLD, SHIP and STATUS."""
    import seed

    commands = itertools.cycle(mix)
    for n in itertools.count():
        command = next(commands)
        if command == "SOLD":
            sender, body = seed.rep_phone(n % seed.REPS), f"SOLD CS75 {seed.fresh_vin(run)}"
        elif command == "SHIP":
            # Every logistics number in turn: `n` itself would use one in len(mix), and at 200 texts a
            # second those few would pass the limit of 20 texts a minute per phone (sms_gateway.inbound).
            sender = seed.wms_phone((n // len(mix)) % seed.LOGISTICS)
            body = f"SHIP BO-{n % seed.REPS} SF SF{n:08d} ETA +2"
        else:
            sender, body = seed.rep_phone(n % seed.REPS), "STATUS"
        yield {
            "MessageSid": f"SM{run}{kind[0]}{level:03d}{n:010d}",
            "AccountSid": "ACbench", "From": sender, "To": "+15005550006", "Body": body, "NumMedia": "0",
        }


def signed(url: str, fields: Iterator[dict[str, str]]) -> Iterator[common.Request]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(_auth_token())
    # Signed for the URL Twilio would call: the app checks PUBLIC_BASE_URL + path.
    public = _public_url(url)
    for params in fields:
        yield common.Request(
            "POST", url,
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "X-Twilio-Signature": validator.compute_signature(public, params)},
            data=urlencode(params),
            check=lambda status, body: status == 200 and "<Response" in body,
        )


def _auth_token() -> str:
    import os

    return os.environ["TWILIO_AUTH_TOKEN"]


def _public_url(url: str) -> str:
    import os
    from urllib.parse import urlsplit

    base = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
    return base + urlsplit(url).path if base else url


def queries_per_message(run: str, url: str, count: int = 20) -> list[list[str]]:
    """Database queries of each command, from the stack's own counter, one message at a time."""
    metrics = common.web_url("/metrics")
    rows = []
    for n, command in enumerate(("SOLD", "SHIP", "STATUS")):
        before = common.metric_total(metrics, "django_db_execute_total")
        outcome = common.run_load(signed(url, messages(run, 900 + n, "q", (command,))), concurrency=1,
                                  max_requests=count, max_seconds=60, label=f"queries {command}")
        spent = common.metric_total(metrics, "django_db_execute_total") - before
        rows.append([command, f"{spent / outcome.count:.1f}", common.ms(common.percentile(outcome.latencies, 50))])
    return rows


def database_failures(run: str, level: int) -> dict[str, int]:
    """Messages of this run and level that did not end `processed`, by status."""
    from django.db.models import Count

    from sms_gateway.models import InboundMessage

    rows = (
        InboundMessage.objects.filter(provider_id__startswith=f"SM{run}p{level:03d}")
        .exclude(status="processed").values("status", "error").annotate(n=Count("id"))
    )
    return {f"{row['status']}:{row['error'][:40]}": row["n"] for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,8,32,64", help="concurrency levels, comma-separated")
    parser.add_argument("--seconds", type=float, default=15, help="time budget per level and endpoint")
    parser.add_argument("--max-requests", type=int, default=5000, help="request budget per level and endpoint")
    parser.add_argument("--note", default="", help="a line saying what this run is (before/after a change)")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]

    common.load_stack_env()
    common.django_setup()
    import seed

    seed.seed()
    seed.clear_runs()
    # VINs are unique forever: each run has its own letters (no I, O, Q).
    run = "".join(random.choices(string.ascii_uppercase.translate(str.maketrans("", "", "IOQ")), k=6))
    floor_url, pipeline_url = common.web_url("/bench/floor/inbound"), common.web_url("/sms/twilio/inbound")
    warm = common.run_load(signed(floor_url, messages(run, 0, "warm")), concurrency=1, max_requests=20,
                           max_seconds=10, label="warm-up floor")
    if warm.errors:
        sys.exit(f"the floor endpoint fails: {warm.error_samples} (is BENCH_FLOOR_ENDPOINT=true on the stack?)")
    common.run_load(signed(pipeline_url, messages(run, 0, "xwarm")), concurrency=1, max_requests=20,
                    max_seconds=10, label="warm-up pipeline")

    rows, verdict = [], []
    for level in levels:
        results = {}
        for kind, url in (("floor", floor_url), ("pipeline", pipeline_url)):
            outcome = common.run_load(
                signed(url, messages(run, level, kind)), concurrency=level, max_requests=args.max_requests,
                max_seconds=args.seconds, label=f"{kind} c={level}", settle=common.wait_worker_idle,
            )
            failures = database_failures(run, level) if kind == "pipeline" else {}
            outcome.errors += sum(failures.values())
            results[kind] = outcome
            ratio = f"{outcome.per_second / results['floor'].per_second:.2f}" if kind == "pipeline" else ""
            lat = outcome.latencies
            rows.append([
                level, kind, outcome.count, f"{outcome.per_second:.1f}", common.ms(common.percentile(lat, 50)),
                common.ms(common.percentile(lat, 95)), common.ms(common.percentile(lat, 99)), outcome.errors, ratio,
                f"{outcome.cpu_ms_per_request:.1f}",
                " / ".join(f"{outcome.cpu_ms_per_request_of(name):.2f}" for name in CPU_PARTS),
                "/".join(map(str, outcome.connections)) or "?",
            ])
            for sample in outcome.error_samples + [f"{k}: {v}" for k, v in failures.items()]:
                print(f"  c={level} {kind} error: {sample}", file=sys.stderr)
        if level == GOAL_LEVEL:
            verdict.append(_verdict(results["pipeline"], results["floor"]))

    body = common.table(
        ["concurrency", "endpoint", "requests", "msg/s", "p50 ms", "p95 ms", "p99 ms", "errors", "pipeline/floor",
         "stack CPU ms/msg", "web / worker / PostgreSQL ms/msg", "connections"],
        rows,
    ) + "\n\n" + common.table(["command", "queries/message", "p50 ms alone"], queries_per_message(run, pipeline_url))
    notes = [f"Mix: 3 SOLD (fresh VIN) : 1 SHIP : 1 STATUS; {args.seconds:g} s or {args.max_requests} requests "
             "per level and endpoint; closed loop (each client waits for its answer). 'stack CPU ms/msg': CPU "
             "time of web, worker (until its queue is empty), PostgreSQL and Redis per message, then the first "
             "three apart; unlike msg/s it hardly moves when other work shares the machine. 'connections': the "
             "load's connections held by each web process at the end (the kernel assigns each to one process; the "
             "floor is fastest when they are even)."]
    if args.note:
        notes.insert(0, args.note)
    common.record("Inbound SMS", common.command_line(), "\n".join(notes) + "\n\n" + body + "\n\n" + "\n".join(verdict))


def _verdict(pipeline: common.Outcome, floor: common.Outcome) -> str:
    ratio = pipeline.per_second / floor.per_second
    p99 = common.percentile(pipeline.latencies, 99)
    ok = ratio >= GOAL_RATIO and p99 < GOAL_P99 and pipeline.errors == 0
    cpu_ratio = floor.cpu_ms_per_request / max(pipeline.cpu_ms_per_request, 1e-9)
    return (
        f"Goal at concurrency {GOAL_LEVEL} (>= {GOAL_RATIO:.0%} of the floor, p99 < {GOAL_P99 * 1000:.0f} ms, "
        f"no error): {'met' if ok else 'NOT met'} (ratio {ratio:.2f}, p99 {p99 * 1000:.0f} ms, "
        f"errors {pipeline.errors}). By CPU per message the pipeline costs {1 / cpu_ratio:.1f} times the floor "
        f"(ratio {cpu_ratio:.2f})."
    )


if __name__ == "__main__":
    main()
