"""Two real server processes share one rate limit through Redis."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import redis

from tests.functional.conftest import create_token
from tests.functional.production.conftest import engine_for, problem
from tests.functional.server.conftest import start_server


def test_the_101st_request_in_a_minute_is_refused_by_either_process(
    tmp_path: Path, database_url: str, redis_url: str, redis_prefix: str
) -> None:
    engine = engine_for(database_url)
    secret = create_token(engine, "ci", "submitter")
    engine.dispose()
    # The seed's numbers, left at their defaults: 100 per minute per address.
    env = {
        "FOSS_DATABASE_URL": database_url,
        "FOSS_REDIS_URL": redis_url,
        "FOSS_RATE_LIMIT_PREFIX": redis_prefix,
    }
    first = start_server(tmp_path, env, ["--no-job-worker"])
    second = start_server(tmp_path, env, ["--no-job-worker"])
    try:
        with httpx.Client(timeout=10) as client:
            statuses = []
            for i in range(100):
                server = first if i % 2 else second
                # Half of them carry a valid key: it also counts them against the key.
                headers = {"X-API-Key": secret} if i < 50 else {}
                response = client.get(f"{server.url}/api/v1/packages", headers=headers)
                statuses.append(response.status_code)
                assert response.headers["ratelimit-limit"] == "100"
            assert statuses == [200] * 100
            assert response.headers["ratelimit-remaining"] == "0"
            for server in (first, second):
                refused = client.get(f"{server.url}/api/v1/packages/anything")
                problem(refused, 429, "rate_limited")
                assert int(refused.headers["retry-after"]) >= 1
            # Health endpoints stay reachable.
            assert client.get(f"{first.url}/healthz").status_code == 200

        keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys(f"{redis_prefix}*")]
        assert any("/ip/127.0.0.1/" in k for k in keys), keys
        # The key is counted by its token id, never by its secret (nor its hash).
        assert any("/key/token:" in k for k in keys), keys
        digest = hashlib.sha256(secret.encode()).hexdigest()
        assert not any(secret in k or digest in k for k in keys)
    finally:
        assert first.stop() == 0
        assert second.stop() == 0
    assert secret not in first.log() + second.log()


def test_far_below_the_limit_permits_are_taken_ahead_but_never_beyond_it(
    tmp_path: Path, database_url: str, redis_url: str, redis_prefix: str
) -> None:
    # 640 per minute: a process takes up to 640/64 = 10 permits per increment while
    # far from the limit, and counts one by one in the last 128.
    env = {
        "FOSS_DATABASE_URL": database_url,
        "FOSS_REDIS_URL": redis_url,
        "FOSS_RATE_LIMIT_PREFIX": redis_prefix,
        "FOSS_RATE_LIMIT_PER_IP": "640/minute",
    }
    first = start_server(tmp_path, env, ["--no-job-worker"])
    second = start_server(tmp_path, env, ["--no-job-worker"])
    try:
        with httpx.Client(timeout=10) as client:
            statuses = [
                client.get(f"{(first if i % 3 else second).url}/api/v1/packages").status_code
                for i in range(700)
            ]
    finally:
        assert first.stop() == 0
        assert second.stop() == 0
    admitted = statuses.count(200)
    assert set(statuses) == {200, 429}
    # Never more than the limit; at most what the other process held refused early.
    assert 640 - 10 <= admitted <= 640
    assert statuses[-1] == 429
