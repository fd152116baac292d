"""The HTTP edge: security headers, request ids, CORS, body size limit, JSON access logs."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from foss_registry.config import Settings
from tests.conftest import make_client
from tests.functional.conftest import key
from tests.functional.production.conftest import problem
from tests.functional.server.conftest import start_server

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_edge_headers(response: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-request-id"]


def test_every_kind_of_response_carries_the_security_headers(
    settings: Settings, engine: Engine, tokens: dict[str, str]
) -> None:
    with make_client(
        settings.model_copy(update={"rate_limits_enabled": True, "rate_limit_per_ip": "8/minute"}),
        engine,
    ) as client:
        responses = [
            client.get("/api/v1/packages"),  # 200 JSON
            client.get("/api/v1/packages/nope"),  # 404 from a handler
            client.get("/api/v9/x"),  # 404 unknown route
            client.delete("/api/v1/packages"),  # 405
            client.post("/api/v1/packages", json={}),  # 401
            client.post("/api/v1/packages", json={}, headers=key("foss_bad")),  # 403
            client.post(
                "/api/v1/packages",
                content=b"x" * (2 * 1024 * 1024),
                headers=key(tokens["submitter"]) | {"content-type": "application/json"},
            ),  # 413
            client.get("/healthz"),
            client.get("/metrics"),
            client.get("/docs"),  # HTML
            client.get("/api/v1/openapi.json"),
        ]
        responses += [client.get("/api/v1/packages") for _ in range(3)]  # ... up to a 429
        statuses = [r.status_code for r in responses]
        assert statuses == [200, 404, 404, 405, 401, 403, 413, 200, 200, 200, 200, 429, 429, 429]
        for response in responses:
            assert_edge_headers(response)
        assert responses[0].headers["content-security-policy"].startswith("default-src 'none'")
        # The docs page may load its own (local) assets.
        assert "default-src 'self'" in responses[9].headers["content-security-policy"]


def test_request_ids_are_returned_and_a_callers_sane_one_is_kept(client: Any) -> None:
    first = client.get("/api/v1/packages").headers["x-request-id"]
    second = client.get("/api/v1/packages").headers["x-request-id"]
    assert first != second and len(first) >= 16
    kept = client.get("/healthz", headers={"X-Request-ID": "ci-run-42.step-3"})
    assert kept.headers["x-request-id"] == "ci-run-42.step-3"
    # Anything that could forge a log line is replaced by a fresh id.
    replaced = client.get("/healthz", headers={"X-Request-ID": 'bad id" injected'})
    assert replaced.headers["x-request-id"] not in ('bad id" injected', "")


def test_cors_is_off_unless_origins_are_configured(settings: Settings, engine: Engine) -> None:
    origin = {"Origin": "https://app.example.org"}
    preflight = origin | {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-api-key, content-type",
    }
    with make_client(settings, engine) as client:
        assert (
            "access-control-allow-origin"
            not in client.get("/api/v1/packages", headers=origin).headers
        )
        answer = client.options("/api/v1/packages", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers

    allowed = settings.model_copy(update={"cors_origins": "https://app.example.org"})
    with make_client(allowed, engine) as client:
        ok = client.get("/api/v1/packages", headers=origin)
        assert ok.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "ratelimit-limit" not in ok.headers  # (limits off here)
        answer = client.options("/api/v1/packages", headers=preflight)
        assert answer.status_code in (200, 204)
        assert answer.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "x-api-key" in answer.headers["access-control-allow-headers"].lower()
        other = client.get("/api/v1/packages", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers

    limited = allowed.model_copy(
        update={"rate_limits_enabled": True, "rate_limit_per_ip": "1/minute"}
    )
    with make_client(limited, engine) as client:
        client.get("/api/v1/packages", headers=origin)
        refused = client.get("/api/v1/packages", headers=origin)
        # A browser can read the refusal and when to retry.
        problem(refused, 429, "rate_limited")
        assert refused.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "retry-after" in refused.headers["access-control-expose-headers"].lower()


def _raw_request(port: int, head: bytes, body_part: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body_part)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_oversized_bodies_are_refused_before_they_are_read_whole(
    tmp_path: Path, database_url: str
) -> None:
    from tests.functional.conftest import create_token
    from tests.functional.production.conftest import engine_for

    engine = engine_for(database_url)
    secret = create_token(engine, "big", "submitter")
    engine.dispose()
    server = start_server(
        tmp_path,
        {"FOSS_DATABASE_URL": database_url, "FOSS_RATE_LIMITS_ENABLED": "false"},
        ["--no-job-worker"],
    )
    port = int(server.url.rsplit(":", 1)[1])
    try:
        # 64 MiB announced, 1 KiB sent: the answer comes without the rest being sent.
        head = (
            b"POST /api/v1/packages HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            + f"X-API-Key: {secret}\r\nContent-Length: {64 * 1024 * 1024}\r\n\r\n".encode()
        )
        answer = _raw_request(port, head, b"{" + b" " * 1023)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        # Chunked, no length announced: refused once past the limit, not at the end.
        chunked = (
            b"POST /api/v1/packages HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            + f"X-API-Key: {secret}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"x" * 65536
        body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(20))  # 1.25 MiB
        answer = _raw_request(port, chunked, body)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/api/v1/packages").json()["total"] == 0
    finally:
        assert server.stop() == 0


def test_json_logs_have_one_line_per_request_with_its_id(tmp_path: Path, database_url: str) -> None:
    server = start_server(
        tmp_path,
        {
            "FOSS_DATABASE_URL": database_url,
            "FOSS_LOG_FORMAT": "json",
            "FOSS_RATE_LIMITS_ENABLED": "false",
        },
        ["--no-job-worker"],
    )
    try:
        with httpx.Client(base_url=server.url) as client:
            ids = [
                client.get(path).headers["x-request-id"]
                for path in ("/api/v1/packages", "/api/v1/packages/some-package", "/api/v1/nowhere")
            ]
    finally:
        assert server.stop() == 0
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert len(lines) == len(server.log().strip().splitlines())  # every line is JSON
    access = [entry for entry in lines if entry["logger"] == "foss_registry.access"]
    by_id = {entry["request_id"]: entry for entry in access}
    assert set(ids) <= set(by_id)
    detail = by_id[ids[1]]
    assert detail["status"] == 404 and detail["method"] == "GET"
    assert detail["path"] == "/api/v1/packages/some-package"
    assert detail["route"] == "/api/v1/packages/{name}"
    assert by_id[ids[2]]["route"] == "<unmatched>"
    assert {"time", "level", "message", "duration_ms", "client_ip"} <= detail.keys()
