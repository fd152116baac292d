"""Graceful shutdown of `foss serve`: in-flight requests finish, the process exits in 15 s."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from tests.functional.conftest import create_token
from tests.functional.production.conftest import engine_for
from tests.functional.server.conftest import start_server


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed early: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return status, body


def test_sigterm_lets_the_request_in_flight_finish_and_exits_within_15_seconds(
    tmp_path: Path, database_url: str
) -> None:
    engine = engine_for(database_url)
    secret = create_token(engine, "alice", "submitter")
    server = start_server(
        tmp_path, {"FOSS_DATABASE_URL": database_url, "FOSS_RATE_LIMITS_ENABLED": "false"}
    )
    port = int(server.url.rsplit(":", 1)[1])
    body = json.dumps({"name": "inflight", "version": "1.0.0", "ecosystem": "pypi"}).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        # The request is under way: headers and half its body sent.
        sock.sendall(
            b"POST /api/v1/packages HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + f"X-API-Key: {secret}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        time.sleep(0.5)
        server.process.send_signal(15)  # SIGTERM
        time.sleep(0.5)
        sock.sendall(body[10:])
        status, answer = _read_response(sock)
    finally:
        sock.close()
    assert status == 201, answer
    assert json.loads(answer)["name"] == "inflight"
    # Exits cleanly, API processes and job worker included, well within 15 s.
    assert server.process.wait(timeout=15) == 0
    with engine.connect() as conn:
        from sqlalchemy import select

        from foss_registry.packages.models import package_versions

        names = conn.execute(select(package_versions.c.name)).scalars().all()
    assert names == ["inflight"]
    engine.dispose()
    assert "Shutting down" in server.log() or "shutdown" in server.log().lower()
