"""A real ``foss serve`` facing careless and hostile clients: connections, paths, logs.

- a request refused before its body is read (401, 413) never costs a pooled
  client its next request on the same connection;
- dot segments and repeated slashes sent raw reach the rate limiter as the
  router sees them;
- what the HTTP server refuses before the app runs gets the answer the README
  describes, and what reaches the app is answered in the problem format;
- every request-derived value is escaped in the text log, and the JSON log
  stays JSON, whatever the request carries.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from tests.functional.conftest import create_token
from tests.functional.production.conftest import engine_for
from tests.functional.server.conftest import ServerProcess, start_server


def _server(tmp_path: Path, database_url: str, **env: str) -> ServerProcess:
    return start_server(
        tmp_path,
        {"FOSS_DATABASE_URL": database_url, "FOSS_RATE_LIMITS_ENABLED": "false"} | env,
        ["--no-job-worker"],
    )


def _port(server: ServerProcess) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes on a new connection; return everything answered until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except TimeoutError:
            pass
        return data


def test_early_refusals_never_cost_a_pooled_client_its_next_request(
    tmp_path: Path, database_url: str
) -> None:
    engine = engine_for(database_url)
    submitter = create_token(engine, "pooled", "submitter")
    engine.dispose()
    server = _server(tmp_path, database_url)
    # Refusals the app sends before reading the body: no key (401), too large (413).
    refusals = [
        ({}, 3 * 1024 * 1024, 401),
        ({"X-API-Key": submitter}, 2 * 1024 * 1024, 413),
        ({"X-API-Key": "foss_wrong"}, 512 * 1024, 403),
        ({}, 40 * 1024 * 1024, 401),  # beyond what the server reads to keep the connection
    ]
    lost: list[str] = []
    try:
        # One connection in the pool: every follow-up would reuse the refused one.
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(base_url=server.url, limits=limits, timeout=30) as client:
            for attempt in range(12):
                for headers, size, status in refusals:
                    refused = client.post(
                        "/api/v1/packages",
                        content=b"{" + b" " * (size - 2) + b"}",
                        headers=headers | {"content-type": "application/json"},
                    )
                    assert refused.status_code == status, refused.text
                    assert refused.headers["content-type"] == "application/problem+json"
                    try:
                        follow = client.get("/api/v1/packages")
                        assert follow.status_code == 200
                    except httpx.HTTPError as exc:
                        lost.append(f"attempt {attempt}, after {status} of {size}: {exc!r}")
    finally:
        assert server.stop() == 0
    assert not lost, lost


@pytest.mark.parametrize(
    "spelling",
    [
        "/api/v1/./licenses/MIT",
        "/api/x/../v1/licenses/MIT",
        "//api//v1/licenses/MIT",
        "/./api/v1/licenses/MIT",
    ],
)
def test_raw_dot_segments_and_slashes_count_against_the_limit(
    tmp_path: Path, database_url: str, spelling: str
) -> None:
    server = start_server(
        tmp_path,
        {"FOSS_DATABASE_URL": database_url, "FOSS_RATE_LIMIT_PER_IP": "2/minute"},
        ["--no-job-worker"],
    )
    try:
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/api/v1/licenses/MIT").status_code == 200
            assert client.get("/api/v1/licenses/MIT").status_code == 200
            assert client.get("/api/v1/licenses/MIT").status_code == 429
        request = f"GET {spelling} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
        answer = _exchange(_port(server), request)
    finally:
        assert server.stop() == 0
    assert answer.startswith(b"HTTP/1.1 429"), answer[:300]
    assert b"x-content-type-options: nosniff" in answer.lower()


#: Requests the HTTP server refuses before the app runs (README: "Refused before the app").
BELOW_THE_APP = [
    b"GARBAGE\r\n\r\n",
    b"GET /api/v1/\x01x HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /api/v1/packages HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n",
    b"GET /api/v1/pack ages HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /api/v1/packages HTTP/9.9\r\nHost: t\r\n\r\n",
]
#: Odd requests that do reach the app: answered in the problem format.
REACHING_THE_APP = [
    (b"GET /api/v1/packages/%FF%FE%00 HTTP/1.1\r\nHost: t\r\n\r\n", b"404"),
    (b"GET /api/v1/%0A%0D HTTP/1.1\r\nHost: t\r\n\r\n", b"404"),
    (b"GET /api/v1/packages?limit=%EF%BC%91 HTTP/1.1\r\nHost: t\r\n\r\n", b"400"),
    (b"GET /api/v1/packages?limit=1e3 HTTP/1.1\r\nHost: t\r\n\r\n", b"400"),
    (b"GET /api/v1/packages?offset=%00 HTTP/1.1\r\nHost: t\r\n\r\n", b"400"),
    (
        b"POST /api/v1/check HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 3\r\n\r\n\xff\xfe{",
        b"400",
    ),
]


def test_requests_below_the_app_get_the_servers_answer_and_the_rest_problem_details(
    tmp_path: Path, database_url: str
) -> None:
    server = _server(tmp_path, database_url)
    try:
        for request in BELOW_THE_APP:
            answer = _exchange(_port(server), request)
            # Granian's own answer: an empty 400 that closes the connection.
            assert answer.startswith(b"HTTP/1.1 400"), (request, answer)
            assert b"connection: close" in answer.lower() and b"content-length: 0" in answer
        for request, status in REACHING_THE_APP:
            answer = _exchange(
                _port(server), request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
            )
            assert answer.startswith(b"HTTP/1.1 " + status), (request, answer[:300])
            assert b"content-type: application/problem+json" in answer.lower(), answer[:300]
            assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["status"] == int(status)
    finally:
        assert server.stop() == 0


#: Percent-encoded bytes a path may carry, and the characters they decode to.
HOSTILE = {
    "%0A": "\n",
    "%0D": "\r",
    "%00": "\x00",
    "%1B%5B31m": "\x1b[31m",
    "%E2%80%AE": "\u202e",
    "%C2%85": "\x85",
    "%E2%80%A8": "\u2028",
    "%09": "\t",
    "%7F": "\x7f",
}


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_every_request_derived_value_is_escaped_in_the_log(
    tmp_path: Path, database_url: str, log_format: str
) -> None:
    server = _server(tmp_path, database_url, FOSS_LOG_FORMAT=log_format)
    sent = []
    try:
        for n, encoded in enumerate(HOSTILE):
            marker = f"mark{n}"
            path = f'/api/v1/packages/{marker}{encoded}forged 127.0.0.1 "GET /x" 200'
            target = path.replace(" ", "%20").replace('"', "%22")
            request = f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
            assert _exchange(_port(server), request.encode()).startswith(b"HTTP/1.1 404")
            sent.append((marker, HOSTILE[encoded]))
    finally:
        assert server.stop() == 0
    raw = server.log_path.read_bytes()
    text = raw.decode("utf-8")
    lines = text.splitlines(keepends=False)
    for marker, char in sent:
        mine = [line for line in lines if marker in line]
        # One line per request: nothing forged, nothing split.
        assert len(mine) == 1, (marker, mine)
        line = mine[0]
        if log_format == "json":
            entry = json.loads(line)
            assert entry["path"] == f'/api/v1/packages/{marker}{char}forged 127.0.0.1 "GET /x" 200'
        else:
            assert char not in line and line.isprintable(), (marker, line)
            assert char.encode("unicode_escape").decode() in line
    # No raw control character anywhere in the file (grep treats NULs as binary).
    assert not any(c in text for c in ("\x00", "\x1b", "\r", "\u202e", "\x85", "\u2028"))
    if log_format == "json":
        assert all(json.loads(line) for line in lines if line.startswith("{"))
