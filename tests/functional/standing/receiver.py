"""A webhook receiver on loopback: records every request, answers statuses it is told to."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One request as the receiver got it."""

    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """A running receiver: its URL, what it received, and the statuses still to answer."""

    url: str
    server: ThreadingHTTPServer
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def wait_for(self, test: Callable[[list[Received]], bool], timeout: float = 30) -> None:
        """Wait until ``test(received)`` holds; fail with what arrived when it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if test(list(self.received)):
                return
            time.sleep(0.05)
        raise AssertionError(f"receiver never saw it; got {[r.headers for r in self.received]}")

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def start_receiver(statuses: list[int] | None = None) -> Receiver:
    """Start a receiver on a free loopback port; it answers 204 once ``statuses`` run out."""
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = holder["r"]
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = receiver.statuses.pop(0) if receiver.statuses else 204
            receiver.received.append(Received(dict(self.headers.items()), body, status))
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", server, statuses or [])
    holder["r"] = receiver
    return receiver
