"""Two API processes on one database: a change made through one shows in the next read
through the other, although each keeps a cache of records (SQLite's data version,
PostgreSQL's current snapshot tell them when anything committed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from foss_registry.db import write_transaction
from tests.functional.conftest import create_token, key
from tests.functional.server.conftest import ServerProcess, start_server

PACKAGES = 5


def _status(server: ServerProcess, name: str) -> Any:
    response = httpx.get(f"{server.url}/api/v1/packages/{name}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_decision_through_one_process_is_read_through_the_other(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    submitter = create_token(engine, "sam", "submitter")
    reviewer = create_token(engine, "rita", "reviewer")
    env = {"FOSS_DATABASE_URL": database_url, "FOSS_RATE_LIMITS_ENABLED": "false"}
    first = start_server(tmp_path, env, ["--no-job-worker"])
    second = start_server(tmp_path, env, ["--no-job-worker"])
    try:
        for i in range(PACKAGES):
            name = f"shared-read-{i}"
            body = {"name": name, "version": "1.0.0", "ecosystem": "pypi", "license": "MIT"}
            created = httpx.post(
                f"{first.url}/api/v1/packages", json=body, headers=key(submitter), timeout=30
            )
            assert created.status_code == 201, created.text
            # The other process reads it (and keeps it) while it is pending...
            for _ in range(3):
                assert _status(second, name)["status"] == "pending"
            # ...a reviewer decides through the first process...
            decision = {"ecosystem": "pypi", "name": name, "version": "1.0.0"}
            decision |= {"decision": "approve" if i % 2 else "reject", "comment": "checked"}
            decided = httpx.post(
                f"{first.url}/api/v1/reviews", json=decision, headers=key(reviewer), timeout=30
            )
            assert decided.status_code == 201, decided.text
            # ...and the very next read through the second one shows the decision.
            record = _status(second, name)
            assert record["status"] == decided.json()["package"]["status"]
            assert record["reviews"][-1]["by"] == "rita"
            assert _status(first, name) == record

        # A change that goes through no API process at all (a command, a job, psql)
        # shows as well: both processes were holding this record.
        name = "shared-read-0"
        before = [_status(server, name) for server in (first, second)]
        assert before[0] == before[1]
        with write_transaction(engine) as conn:
            conn.exec_driver_sql(
                "UPDATE package_versions SET description = 'changed behind the API' "
                "WHERE normalized_name = 'shared-read-0'"
            )
        for server in (first, second):
            assert _status(server, name)["description"] == "changed behind the API"
    finally:
        first.stop()
        second.stop()
