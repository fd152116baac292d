"""Benchmark: submissions per second with three webhooks registered, against none.

Fresh SQLite registries are served one after the other by `foss serve` with
its job worker (which relays the outbox and delivers): one with no webhook, one
with three webhooks subscribed to every event, their receivers answering 204 on
loopback, in alternating rounds (a busy machine drifts). wrk sends the same
durable submissions to each; each round's ratio is submissions stored per
second with webhooks over without, and the median of the rounds is the figure
(target: at least 0.8). The deliveries each receiver got while wrk ran are
counted too.

    python -m bench.webhooks_bench [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from bench.common import HEADER, Server, free_port, row, start, wrk
from bench.packages_bench import LUA_POST

SUBMITTER = "foss_bench-submitter-not-secret"
ADMIN = "foss_bench-admin-not-secret"
EVENTS = [
    "package.submitted",
    "package.approved",
    "package.rejected",
    "package.flagged",
    "triage.expired",
]


class Receiver:
    """A loopback receiver answering 204 and counting what it got."""

    def __init__(self) -> None:
        self.count = 0
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                with lock:
                    receiver.count += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def serve(db: Path, work: Path) -> Server:
    """`foss serve` with its job worker on a fresh SQLite file."""
    port = free_port()
    env = {
        "FOSS_DATABASE_URL": f"sqlite:///{db}",
        "FOSS_API_TOKENS": f"bench:submitter:{SUBMITTER},boss:admin:{ADMIN}",
        "FOSS_RATE_LIMITS_ENABLED": "false",
        "FOSS_LOG_LEVEL": "WARNING",
        "FOSS_WEBHOOKS_ALLOW_PRIVATE": "true",
    }
    cmd = [sys.executable, "-m", "foss_registry.cli.main", "serve", "--port", str(port)]
    return start(cmd, env, port, "/healthz", work)


def submissions(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM package_versions").fetchone()[0])


def measure(work: Path, label: str, hooks: int, seconds: int) -> tuple[Any, int, list[int]]:
    """Serve a fresh registry with ``hooks`` webhooks; return wrk's result, stored, delivered."""
    db = work / f"{label}.db"
    receivers = [Receiver() for _ in range(hooks)]
    server = serve(db, work)
    try:
        for receiver in receivers:
            made = httpx.post(
                f"{server.url}/api/v1/webhooks",
                json={"url": receiver.url, "events": EVENTS},
                headers={"X-API-Key": ADMIN},
            )
            assert made.status_code == 201, made.text
        script = work / f"{label}.lua"
        script.write_text(LUA_POST.format(token=SUBMITTER, run=secrets.token_hex(4)))
        wrk(server.url, seconds=2, script=script)
        before = submissions(db)
        delivered_before = [r.count for r in receivers]
        result = wrk(server.url, seconds=seconds, script=script)
        stored = submissions(db) - before
        delivered = [r.count - b for r, b in zip(receivers, delivered_before, strict=True)]
    finally:
        server.stop()
        for receiver in receivers:
            receiver.stop()
    return result, stored, delivered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ratios = []
    print(f"POST /packages, 1 API process + job worker, wrk -t2 -c32 -d{args.seconds}s\n")
    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="foss-bench-webhooks-") as tmp:
        work = Path(tmp)
        for n in range(args.rounds):
            without, stored_without, _ = measure(work, f"without-{n}", 0, args.seconds)
            time.sleep(1)
            with_hooks, stored_with, delivered = measure(work, f"with-{n}", 3, args.seconds)
            ratio = stored_with / max(stored_without, 1)
            ratios.append(ratio)
            print(row(f"round {n + 1}: no webhook", without))
            print(row(f"round {n + 1}: 3 webhooks (every event)", with_hooks, without))
            print(
                f"  stored {stored_without / args.seconds:,.0f}/s without, "
                f"{stored_with / args.seconds:,.0f}/s with (ratio {ratio:.2f}); "
                f"delivered while wrk ran, per receiver: {delivered}"
            )
    print(
        f"\nmedian ratio of stored submissions/s, with 3 webhooks over without: "
        f"{statistics.median(ratios):.2f} (target >= 0.80)"
    )


if __name__ == "__main__":
    main()
