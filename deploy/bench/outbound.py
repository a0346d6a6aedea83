"""Outbound SMS: shipment notices through the Celery worker to the Twilio-compatible server of the
local stack, with provider failures injected on the way; then the per-sender rate limit.

    python deploy/bench/outbound.py [--count 10000] [--faults 200] [--rate 20 --rate-count 400]

Phase 1 queues `count` shipment notices (one transaction per 1,000, through the outbound queue
the domain uses, so each is handed to Celery after commit), and after a tenth of them are sent
makes the server answer the next `faults` sends with 503 and 429 (Retry-After: 1). It waits
until every notice is sent or failed, then reports sends per second (first to last send at the
server), retries, duplicates (texts the server got more than once; must be 0) and the rows'
final statuses.

Then the worker's CPU per send: `cpu-count` notices handed to Celery `k` to a task for each `k`
of `cpu-chunks` (a batch of inbound texts hands over its notices together, three or so at 32
clients), the worker's processes' CPU from /proc until every one is sent.

Phase 2 restarts the app with SMS_SENDER_RATE_PER_SECOND=`rate`, queues `rate-count` notices and
checks that no second at the server saw more than `rate` of them from the sending number; then
restarts the app without the limit. Prints a table and appends it to RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

BATCH = 1000
WAIT_SECONDS = 300  # retries back off 30 s, then 60 s: every notice is settled well before this


def sink(path: str, method: str = "GET") -> dict:
    return common.get_json(os.environ["SINK_CONTROL_URL"] + path, method=method)


def queue_notices(count: int, tag: str) -> list[int]:
    """`count` shipment notices to the bench reps, each with its own order number (so a
    duplicate at the server is a repeated body), queued as the domain queues them."""
    import seed
    from django.db import transaction
    from tqdm import tqdm

    from sms_gateway.outbound import queue_sms

    reps = seed.bench_reps()[:500]
    ids: list[int] = []
    with tqdm(total=count, desc="queue notices", unit="msg", file=sys.stderr, mininterval=1.0) as progress:
        for start in range(0, count, BATCH):
            with transaction.atomic():  # handed to Celery when each batch commits
                for n in range(start, min(start + BATCH, count)):
                    rep = reps[n % len(reps)]
                    body = (f"BX-{tag}-{n} shipped SF SF{n:08d}, ETA 11-25. Please tell your customer to prepare "
                            f"receiving, then reply OK BX-{tag}-{n}")
                    ids.append(queue_sms(to=rep.phone, body=body, user=rep, kind="shipment").pk)
            progress.update(min(BATCH, count - start))
    return ids


def wait_settled(ids: list[int], *, inject_after: int = 0, faults: int = 0) -> dict[str, int]:
    """Statuses of `ids` once none is queued or sending (or the time is up)."""
    from django.db.models import Count
    from tqdm import tqdm

    from sms_gateway.models import OutboundMessage

    rows = OutboundMessage.objects.filter(pk__in=ids)
    injected = faults == 0
    deadline = time.monotonic() + WAIT_SECONDS
    with tqdm(total=len(ids), desc="sent", unit="msg", file=sys.stderr, mininterval=1.0) as progress:
        while time.monotonic() < deadline:
            done = rows.exclude(status__in=["queued", "sending"]).count()
            progress.update(done - progress.n)
            if not injected and sink("/stats")["accepted"] >= inject_after:
                # Half 503, half 429, both with Retry-After: the worker must back off and try again.
                sink(f"/fail?n={faults // 2}&status=503", "POST")
                sink(f"/fail?n={faults - faults // 2}&status=429", "POST")
                injected = True
            if done == len(ids):
                break
            time.sleep(1)
    return {row["status"]: row["n"] for row in rows.values("status").annotate(n=Count("id"))}


def retried(ids: list[int]) -> int:
    from sms_gateway.models import OutboundMessage

    return OutboundMessage.objects.filter(pk__in=ids, attempts__gt=1).count()


def restart_app(extra_env: dict[str, str]) -> None:
    """The rate limit is a setting: the worker must start with it."""
    env = {**os.environ, **extra_env}
    subprocess.run([str(common.ROOT / "deploy" / "local-stack.sh"), "restart-app"], env=env, check=True)


def phase_one(args: argparse.Namespace, tag: str, sender: str) -> list:
    sink("/reset", "POST")
    ids = queue_notices(args.count, tag)
    statuses = wait_settled(ids, inject_after=args.count // 10, faults=args.faults)
    retries = retried(ids)
    stats = sink(f"/stats?tail={retries}")  # the rate of the stream, not of the backoff that ends it
    return [
        "unlimited", args.count, stats["accepted"], stats["sends_per_second"], stats["attempts"] - stats["accepted"],
        retries, stats["duplicates"], stats["max_per_second_by_sender"].get(sender, 0),
        ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
    ]


def worker_cpu_per_send(count: int, per_task: int) -> list:
    """The worker's CPU for each of `count` notices handed over `per_task` to a task."""
    import seed

    from sms_gateway.models import OutboundMessage
    from sms_gateway.tasks import send_outbound_many

    reps = seed.bench_reps()[:500]
    rows = OutboundMessage.objects.bulk_create(
        OutboundMessage(to=reps[n % len(reps)].phone, body=f"BX-cpu-{n} shipped", kind="shipment", status="queued")
        for n in range(count)
    )
    ids = [row.pk for row in rows]
    common.wait_worker_idle()
    before = common.cpu_seconds("worker")["worker"]
    for start in range(0, count, per_task):
        send_outbound_many.delay(ids[start:start + per_task])
    statuses = wait_settled(ids)
    common.wait_worker_idle()
    cpu_ms = (common.cpu_seconds("worker")["worker"] - before) * 1000 / count
    return [per_task, count, f"{cpu_ms:.2f}", ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--faults", type=int, default=200, help="sends answered 503/429 during phase 1")
    parser.add_argument("--rate", type=float, default=20, help="per-sender limit for phase 2 (texts a second)")
    parser.add_argument("--rate-count", type=int, default=400)
    parser.add_argument("--cpu-count", type=int, default=1500, help="notices for each measure of the worker's CPU")
    parser.add_argument("--cpu-chunks", default="3,10", help="notices to a task, comma-separated")
    parser.add_argument("--only-rate", action="store_true", help="phase 2 only")
    parser.add_argument("--note", default="")
    args = parser.parse_args()

    common.load_stack_env()
    common.django_setup()
    import seed

    seed.seed()
    tag = uuid.uuid4().hex[:6]
    sender = os.environ["TWILIO_FROM_NUMBER"]

    rows = [] if args.only_rate else [phase_one(args, tag, sender)]
    cpu_rows = [] if args.only_rate else [
        worker_cpu_per_send(args.cpu_count, int(chunk)) for chunk in args.cpu_chunks.split(",")
    ]

    restart_app({"SMS_SENDER_RATE_PER_SECOND": str(args.rate)})
    try:
        sink("/reset", "POST")
        ids = queue_notices(args.rate_count, tag + "r")
        statuses = wait_settled(ids)
        stats = sink("/stats")
    finally:
        restart_app({"SMS_SENDER_RATE_PER_SECOND": "0"})
    busiest = stats["max_per_second_by_sender"].get(sender, 0)
    rows.append([
        f"{args.rate:g}/s per sender", args.rate_count, stats["accepted"], stats["sends_per_second"],
        stats["attempts"] - stats["accepted"], retried(ids), stats["duplicates"], busiest,
        ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
    ])

    body = common.table(
        ["limit", "queued", "accepted", "sends/s", "failed attempts", "rows retried", "duplicates",
         "busiest second", "final status"],
        rows,
    )
    if cpu_rows:
        body += "\n\n" + common.table(["notices a task", "sent", "worker CPU ms/send", "final status"], cpu_rows)
    duplicates = sum(row[6] for row in rows)
    respected = "respected" if busiest <= args.rate else "EXCEEDED"
    verdict = (f"Duplicates: {duplicates} ({'none' if duplicates == 0 else 'NOT zero'}); rate limit {respected} "
               f"(busiest second {busiest}, limit {args.rate:g}).")
    notes = [] if args.only_rate else [
        f"Phase 1 injects {args.faults} provider failures (half 503, half 429, Retry-After 1) after {args.count // 10} "
        "sends; retries back off 30 s then 60 s. 'sends/s' is first to last send at the server, leaving out as many "
        "last sends as rows were retried (they waited out their backoff)."
    ]
    notes.append(f"Phase 2: the app restarted with SMS_SENDER_RATE_PER_SECOND={args.rate:g}; 'busiest second' is the "
                 "most sends the server got from the sending number within any one second.")
    if args.note:
        notes.insert(0, args.note)
    common.record("Outbound SMS", common.command_line(), "\n".join(notes) + "\n\n" + body + "\n\n" + verdict)


if __name__ == "__main__":
    main()
