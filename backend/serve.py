"""The web processes: N uvicorn servers on one port, each listening on a socket of its own.

`uvicorn --workers N` shares one listening socket among its workers, and Linux hands a new
connection to the worker that went back to waiting last: kept-alive connections (nginx's upstream
pool, Twilio's, a load generator's) pile onto one busy worker while the others idle. We measured
32 of 32 connections on one of two workers. With SO_REUSEPORT every worker has its own socket on
the same port and the kernel spreads new connections across them.

    python -m backend.serve --host 0.0.0.0 --port 8000 --workers 4 [--proxy-headers ...]

A worker that dies is started again on the same socket; TERM or INT stops them all gracefully.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import socket
import time
from typing import Any

APP = "backend.asgi:application"


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    config = {
        "app": APP, "host": args.host, "port": args.port, "loop": args.loop, "http": args.http,
        "access_log": False, "proxy_headers": args.proxy_headers, "forwarded_allow_ips": args.forwarded_allow_ips,
        "timeout_graceful_shutdown": args.timeout_graceful_shutdown, "backlog": args.backlog,
    }
    sockets = [listening_socket(args.host, args.port, args.backlog) for _ in range(args.workers)]
    Supervisor(config, sockets).run()


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A socket of its own on a shared port: the kernel balances new connections between them."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def _serve(config: dict[str, Any], sock: socket.socket) -> None:
    import uvicorn

    uvicorn.Server(uvicorn.Config(**config)).run(sockets=[sock])


class Supervisor:
    """One worker process per socket, kept alive until told to stop."""

    def __init__(self, config: dict[str, Any], sockets: list[socket.socket]) -> None:
        self.config = config
        self.sockets = sockets
        self.context = multiprocessing.get_context("spawn")  # as uvicorn does: no state forked mid-flight
        self.workers: list[multiprocessing.process.BaseProcess | None] = [None] * len(sockets)
        self.stopping = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        while not self.stopping:
            for n, worker in enumerate(self.workers):
                if worker is None or not worker.is_alive():
                    self.workers[n] = self._start(n)
            time.sleep(0.5)
        for worker in self.workers:
            if worker is not None and worker.is_alive():
                worker.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for worker in self.workers:
            if worker is not None:
                worker.join(float(self.config["timeout_graceful_shutdown"] or 10) + 5)

    def _start(self, n: int) -> multiprocessing.process.BaseProcess:
        worker = self.context.Process(target=_serve, args=(self.config, self.sockets[n]), name=f"web-{n}")
        worker.start()
        return worker

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--loop", default="auto", help="uvicorn's event loop: auto, asyncio or uvloop")
    parser.add_argument("--http", default="auto", help="uvicorn's HTTP parser: auto, h11 or httptools")
    parser.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-* from --forwarded-allow-ips")
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    parser.add_argument("--timeout-graceful-shutdown", type=int, default=10)
    parser.add_argument("--backlog", type=int, default=2048)
    return parser


if __name__ == "__main__":
    main()
