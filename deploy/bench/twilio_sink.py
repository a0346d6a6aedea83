"""Twilio's side of the local stack: the Twilio-compatible server of the tests, run as a process.

    python deploy/bench/twilio_sink.py --url-file URL_FILE --control-port 8791

It starts `tests.fakes.twilio_server.FakeTwilio` on an ephemeral loopback port, writes its base
URL to URL_FILE (the stack points `TWILIO_API_BASE_URL` there), and answers a small control API
on 127.0.0.1:<control-port> for the benchmarks:

    GET  /stats?tail=N          counts, duplicates, send rate (without the last N sends) and the
                                busiest second per sender
    GET  /messages?to=+86...    messages accepted for one number (the bench reads OTP codes here)
    POST /reset                 forget everything
    POST /fail?n=50&status=503  answer the next n sends with that error (retries are measured)

It stops on SIGTERM or SIGINT.
"""

import argparse
import json
import signal
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fakes.twilio_server import FakeTwilio


def stats(fake: FakeTwilio, tail: int = 0) -> dict[str, Any]:
    """`tail`: leave the last sends out of the rate (retries that waited out their backoff)."""
    messages = fake.messages
    copies = Counter((m.to, m.body) for m in messages)
    senders = {m.sender for m in messages}
    times = [m.received_at for m in messages][: max(len(messages) - tail, 0)]
    span = (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {
        "attempts": fake.attempts,
        "accepted": len(messages),
        "duplicates": sum(n - 1 for n in copies.values() if n > 1),
        "span_seconds": round(span, 3),
        "sends_per_second": round((len(times) - 1) / span, 1) if span else None,
        "max_per_second_by_sender": {s: fake.max_in_window(1.0, sender=s) for s in sorted(senders)},
        "pending_faults": fake.pending_faults,
    }


def control_handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/stats":
                return self._json(stats(fake, int(parse_qs(url.query).get("tail", ["0"])[0])))
            if url.path == "/messages":
                to = parse_qs(url.query).get("to", [""])[0]
                found = [{"sid": m.sid, "body": m.body, "from": m.sender} for m in fake.messages if m.to == to]
                return self._json(found)
            return self._json({"detail": "not found"}, 404)

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path == "/reset":
                fake.reset()
                return self._json({"ok": True})
            if url.path == "/fail":
                fake.fail_next(int(query.get("n", ["1"])[0]), status=int(query.get("status", ["503"])[0]))
                return self._json({"pending_faults": fake.pending_faults})
            return self._json({"detail": "not found"}, 404)

        def _json(self, payload: Any, status: int = 200) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url-file", required=True, type=Path)
    parser.add_argument("--control-port", type=int, default=8791)
    parser.add_argument("--account-sid", default="ACbench")
    parser.add_argument("--auth-token", default="bench-token")
    args = parser.parse_args()

    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    with FakeTwilio(args.account_sid, args.auth_token) as fake:
        control = ThreadingHTTPServer(("127.0.0.1", args.control_port), control_handler(fake))
        threading.Thread(target=control.serve_forever, daemon=True).start()
        args.url_file.write_text(fake.base_url)
        print(f"twilio sink at {fake.base_url}, control at http://127.0.0.1:{args.control_port}", flush=True)
        stopped.wait()
        control.shutdown()


if __name__ == "__main__":
    main()
