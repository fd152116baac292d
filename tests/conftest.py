"""Shared test fixtures: real databases (SQLite and PostgreSQL), the app, and real data paths.

Functional tests that take the ``engine`` (or ``client``) fixture run once per
backend: SQLite always, PostgreSQL when ``FOSS_TEST_POSTGRES_URL`` names a
server where the test role may create databases (``.ci/run`` starts one).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from foss_registry import storage
from foss_registry.config import Settings
from foss_registry.db import make_engine

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Real public data (OSV, SPDX, OSADL, scanner outputs), kept outside the repository.
SHARED_DATA = Path(os.environ.get("FOSS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
POSTGRES_URL = os.environ.get("FOSS_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def pytest_report_header(config: pytest.Config) -> str:
    """Say which database backends the functional tests run on."""
    if POSTGRES_URL:
        return "database backends: sqlite, postgresql"
    return "database backends: sqlite only (set FOSS_TEST_POSTGRES_URL to add PostgreSQL)"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the shared real data; the suite fails loudly if it is missing."""
    assert SHARED_DATA.is_dir(), f"shared data not found at {SHARED_DATA} (set FOSS_SHARED_DATA)"
    return SHARED_DATA


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (migrating once is faster)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    storage.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _worker_suffix() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test process, dropped at the end."""
    assert POSTGRES_URL, "FOSS_TEST_POSTGRES_URL is not set"
    # The process id keeps simultaneous test runs on one server apart.
    name = f"foss_test_{_worker_suffix()}_{os.getpid()}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    storage.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def empty_database(request: pytest.FixtureRequest, backend: str, directory: Path) -> str:
    """URL of an empty, migrated database of ``backend`` (a SQLite file in ``directory``)."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = directory / "registry.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        # Every table, the search's kept counts too (migrations add them beside the
        # models, and TRUNCATE fires no row trigger to empty them): all derived from
        # the versions, so empty with them.
        names = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        tables = ", ".join(f'"{name}"' for name in names)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, migrated database of each backend, private to this test."""
    return empty_database(request, request.param, tmp_path)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on this test's database."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Server settings for this test: auth on, rate limits off unless a test turns them on."""
    return Settings(database_url=database_url, auth_enabled=True, rate_limits_enabled=False)


def make_client(settings: Settings, engine: Engine) -> Any:
    """An in-process HTTP client on a freshly built app."""
    from litestar.testing import TestClient

    from foss_registry.wiring import create_app

    app = create_app(settings, engine)
    client = TestClient(app=app, raise_server_exceptions=False)
    # The served app (the edge around Litestar); its state.ctx is what the handlers share.
    client.registry = app  # type: ignore[attr-defined]
    return client


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[Any]:
    """The in-process test client of the real app on this test's database."""
    with make_client(settings, engine) as c:
        yield c
