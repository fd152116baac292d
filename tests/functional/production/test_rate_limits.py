"""Rate limits: per client address and per API key, 429 in the error shape, headers, proxies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from foss_registry.api.middleware import client_address, parse_trusted_proxies
from foss_registry.config import Settings
from tests.conftest import make_client
from tests.functional.conftest import create_token, key
from tests.functional.production.conftest import problem
from tests.functional.server.conftest import start_server


def limited_client(settings: Settings, engine: Engine, **limits: Any) -> Any:
    return make_client(settings.model_copy(update={"rate_limits_enabled": True} | limits), engine)


def test_the_seeds_numbers_are_the_defaults() -> None:
    settings = Settings(database_url="sqlite:///unused.db")
    assert settings.rate_limits_enabled is True
    assert settings.rate_limit_per_ip == "100/minute"
    assert settings.rate_limit_per_key == "1000/hour"
    assert settings.trusted_proxies == ""


def test_the_client_address_is_refused_after_its_limit(settings: Settings, engine: Engine) -> None:
    with limited_client(settings, engine, rate_limit_per_ip="5/minute") as client:
        remaining = []
        for _ in range(5):
            response = client.get("/api/v1/packages")
            assert response.status_code == 200
            assert response.headers["ratelimit-limit"] == "5"
            assert 1 <= int(response.headers["ratelimit-reset"]) <= 60
            remaining.append(int(response.headers["ratelimit-remaining"]))
        assert remaining == [4, 3, 2, 1, 0]

        refused = client.get("/api/v1/packages")
        body = problem(refused, 429, "rate_limited")
        assert "5 per minute" in body["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit-limit"] == "5"
        assert refused.headers["ratelimit-remaining"] == "0"
        assert refused.headers["ratelimit-reset"] == refused.headers["retry-after"]
        # Writes, unknown routes and the OpenAPI document count too: all of /api/.
        assert client.post("/api/v1/packages", json={}).status_code == 429
        assert client.get("/api/v2/anything").status_code == 429

        # Health, readiness, metrics and docs are exempt and carry no limit headers.
        for path in ("/healthz", "/readyz", "/metrics", "/docs"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "ratelimit-limit" not in response.headers


def test_a_valid_key_counts_against_the_key_and_an_invalid_one_is_ignored(
    settings: Settings, engine: Engine
) -> None:
    alice = create_token(engine, "alice", "submitter")
    bob = create_token(engine, "bob", "submitter")
    with limited_client(
        settings, engine, rate_limit_per_ip="50/minute", rate_limit_per_key="3/hour"
    ) as client:
        for expected_remaining in (2, 1, 0):
            response = client.get("/api/v1/packages", headers=key(alice))
            assert response.status_code == 200
            # The key's limit is the one closer to running out, so it is the one shown.
            assert response.headers["ratelimit-limit"] == "3"
            assert response.headers["ratelimit-remaining"] == str(expected_remaining)
        body = problem(client.get("/api/v1/packages", headers=key(alice)), 429, "rate_limited")
        assert "API key" in body["detail"] and "3 per hour" in body["detail"]
        # A write with the exhausted key is refused before it does anything.
        submission = {"name": "flask", "version": "2.3.0", "ecosystem": "pypi"}
        problem(
            client.post("/api/v1/packages", json=submission, headers=key(alice)),
            429,
            "rate_limited",
        )
        assert client.get("/api/v1/packages").json()["total"] == 0

        # Another key and no key are unaffected; an invalid key on a public read is
        # ignored (the request counts against the address only).
        assert client.get("/api/v1/packages", headers=key(bob)).status_code == 200
        anonymous = client.get("/api/v1/packages")
        assert anonymous.status_code == 200 and anonymous.headers["ratelimit-limit"] == "50"
        ignored = client.get("/api/v1/packages", headers=key("foss_not-a-token"))
        assert ignored.status_code == 200 and ignored.headers["ratelimit-limit"] == "50"


def test_rate_limits_off_is_local_development_mode(settings: Settings, engine: Engine) -> None:
    with make_client(settings, engine) as client:  # the suite's settings: limits off
        for _ in range(20):
            response = client.get("/api/v1/packages")
            assert response.status_code == 200
        assert "ratelimit-limit" not in response.headers


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    trusted = parse_trusted_proxies("10.0.0.0/8, 192.0.2.7")
    # From an untrusted peer the header changes nothing.
    assert client_address("198.51.100.9", ["203.0.113.5"], trusted) == "198.51.100.9"
    assert client_address("198.51.100.9", ["203.0.113.5"], ()) == "198.51.100.9"
    # From a trusted proxy: the right-most address that is not a trusted proxy.
    assert client_address("10.1.2.3", ["203.0.113.5"], trusted) == "203.0.113.5"
    assert client_address("10.1.2.3", ["1.1.1.1, 203.0.113.5, 10.9.9.9"], trusted) == "203.0.113.5"
    assert client_address("192.0.2.7", ["1.1.1.1", "203.0.113.5"], trusted) == "203.0.113.5"
    # Garbage from the client side never becomes the address.
    assert client_address("10.1.2.3", ["not-an-ip"], trusted) == "10.1.2.3"
    with pytest.raises(ValueError):
        parse_trusted_proxies("10.0.0.0/8, proxy.example")


def _run_requests(url: str, headers_list: list[dict[str, str]]) -> list[int]:
    with httpx.Client(base_url=url, timeout=10) as client:
        return [client.get("/api/v1/packages", headers=h).status_code for h in headers_list]


def test_spoofed_forwarded_for_changes_nothing_on_a_real_server(
    tmp_path: Path, database_url: str
) -> None:
    env = {
        "FOSS_DATABASE_URL": database_url,
        "FOSS_RATE_LIMIT_PER_IP": "3/minute",
    }
    server = start_server(tmp_path, env, ["--no-job-worker"])
    try:
        # Each request claims to come from somewhere else; all count against 127.0.0.1.
        spoofed = [{"X-Forwarded-For": f"203.0.113.{i}"} for i in range(1, 6)]
        assert _run_requests(server.url, spoofed) == [200, 200, 200, 429, 429]
    finally:
        assert server.stop() == 0


def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    tmp_path: Path, database_url: str
) -> None:
    env = {
        "FOSS_DATABASE_URL": database_url,
        "FOSS_RATE_LIMIT_PER_IP": "3/minute",
        "FOSS_TRUSTED_PROXIES": "127.0.0.1",
    }
    server = start_server(tmp_path, env, ["--no-job-worker"])
    try:
        first = {"X-Forwarded-For": "203.0.113.1"}
        second = {"X-Forwarded-For": "198.51.100.1, 203.0.113.2"}
        assert _run_requests(server.url, [first] * 4) == [200, 200, 200, 429]
        # Another client behind the same proxy has its own count.
        assert _run_requests(server.url, [second] * 4) == [200, 200, 200, 429]
        # The access log names the client, not the proxy.
        assert "203.0.113.2" in server.log()
    finally:
        assert server.stop() == 0
