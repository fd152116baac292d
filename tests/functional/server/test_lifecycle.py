"""A real `foss serve`: its start-up line, HEAD requests, and a clean stop with stalled clients."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx

from tests.functional.server.conftest import ServerProcess, start_server


def test_the_start_up_line_is_one_line(server: ServerProcess) -> None:
    port = server.url.rsplit(":", 1)[1]
    lines = [line for line in server.log().splitlines() if "listening on" in line]
    assert len(lines) == 1, server.log()
    # Longer than 80 characters, and still whole: the database and the process count included.
    assert len(lines[0]) > 80
    assert lines[0].startswith(f"FOSS Registry listening on http://127.0.0.1:{port} (database ")
    assert lines[0].endswith("1 API process(es))")


def test_head_answers_as_get_without_a_body_over_http(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for path in ("/healthz", "/api/v1/packages", "/api/v1/licenses/MIT", "/docs"):
            got = client.get(path)
            head = client.head(path)
            assert head.status_code == got.status_code == 200, path
            assert head.content == b"", path
            assert head.headers["content-type"] == got.headers["content-type"], path
            assert head.headers["content-length"] == str(len(got.content)), path
        # Unknown things stay unknown, and HEAD is no way around a POST-only route.
        assert client.head("/api/v1/packages/never-submitted").status_code == 404
        assert client.head("/api/v1/check").status_code == 405
        # The connection is still usable after the HEAD answers.
        assert client.get("/healthz").json() == {"status": "ok"}


def _stalled(port: int, request: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(request)
    return sock


def test_sigterm_with_stalled_clients_stops_without_killing_a_worker(
    tmp_path: Path, database_url: str
) -> None:
    server = start_server(
        tmp_path, {"FOSS_DATABASE_URL": database_url, "FOSS_RATE_LIMITS_ENABLED": "false"}
    )
    port = int(server.url.rsplit(":", 1)[1])
    body = json.dumps({"dependencies": [{"name": "a", "version": "1", "ecosystem": "pypi"}]})
    # One whole request first: the route's first use (its imports) is not what is measured.
    warm = httpx.post(f"{server.url}/api/v1/check", content=body, timeout=60,
                      headers={"Content-Type": "application/json"})
    assert warm.status_code == 200, warm.text
    # One client stops half-way through its headers, another half-way through its body:
    # Granian waits for every request under way before an API process may stop.
    half_headers = _stalled(port, b"GET /api/v1/packages HTTP/1.1\r\nHost: test\r\n")
    half_body = _stalled(
        port,
        b"POST /api/v1/check HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:10].encode(),
    )
    try:
        time.sleep(0.5)
        started = time.monotonic()
        server.process.send_signal(15)  # SIGTERM
        assert server.process.wait(timeout=15) == 0
        stopped_in = time.monotonic() - started
        answer = half_body.recv(65536)
    finally:
        half_headers.close()
        half_body.close()
    log = server.log()
    assert "refused to gracefully stop" not in log, log
    assert "Killing" not in log, log
    assert stopped_in < 15
    # The stalled body was answered, in the one error format.
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    problem = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert problem["code"] == "request_timeout" and problem["status"] == 408
