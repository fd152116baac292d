"""Fixtures for production-readiness tests: Redis, real server processes, tokens."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from foss_registry.db import make_engine
from tests.conftest import POSTGRES_URL
from tests.functional.server.conftest import free_port


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis for shared rate limits: FOSS_TEST_REDIS_URL (``.ci/run`` starts one), else one
    started here from ``redis-server`` for this test process."""
    configured = os.environ.get("FOSS_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    binary = shutil.which("redis-server")
    assert binary, "set FOSS_TEST_REDIS_URL or install redis-server (.ci/run does both)"
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


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
