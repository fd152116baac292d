"""The test run brings up its own Redis: nothing but the dev dependencies is needed."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tests.functional.production.conftest import running_redis


def test_redis_starts_with_no_redis_server_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with running_redis(tmp_path) as url:
        store = redis.Redis.from_url(url)
        assert store.ping()
        store.set("foss-test-key", "1")
        assert store.get("foss-test-key") == b"1"
        assert store.info("server")["redis_version"].startswith(("6.", "7."))
        store.close()
