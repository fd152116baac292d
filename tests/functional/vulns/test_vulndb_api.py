"""Admin reads over HTTP: the vulnerability database's status and the failed jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from foss_registry.db import write_transaction
from foss_registry.jobs import queue
from tests.functional.conftest import key
from tests.functional.vulns.conftest import import_all, run_jobs


def test_status_needs_an_admin_key(client: Any, tokens: dict[str, str]) -> None:
    assert client.get("/api/v1/vulndb/status").status_code == 401
    forbidden = client.get("/api/v1/vulndb/status", headers=key(tokens["reviewer"]))
    assert forbidden.status_code == 403
    assert client.get("/api/v1/vulndb/status", headers=key("foss_not-a-token")).status_code == 403


def test_status_of_an_empty_and_a_loaded_database(
    client: Any, engine: Engine, tokens: dict[str, str], selected_data: list[Path]
) -> None:
    empty = client.get("/api/v1/vulndb/status", headers=key(tokens["admin"]))
    assert empty.status_code == 200
    assert empty.json() == {
        "records": 0,
        "withdrawn": 0,
        "newest_modified": None,
        "age_days": None,
        "stale": None,
        "last_imported_at": None,
        "ecosystems": [],
    }

    import_all(engine, selected_data)
    status = client.get("/api/v1/vulndb/status", headers=key(tokens["admin"])).json()
    assert status["records"] == 13 and status["withdrawn"] == 0
    # The newest record of the selection: MAL-2025-2552, published in 2025.
    assert status["newest_modified"].startswith("2025-")
    assert status["stale"] is True and status["age_days"] > 7
    counts = {
        (e["ecosystem"], source): n["records"]
        for e in status["ecosystems"]
        for source, n in e["sources"].items()
    }
    assert counts == {
        ("maven", "GHSA"): 3,
        ("maven", "MAL"): 1,
        ("npm", "GHSA"): 4,
        ("npm", "MAL"): 1,
        ("pypi", "GHSA"): 2,
        ("pypi", "MAL"): 1,
        ("pypi", "PYSEC"): 1,
    }
    assert {e["ecosystem"]: e["records"] for e in status["ecosystems"]} == {
        "maven": 4,
        "npm": 5,
        "pypi": 4,
    }
    for eco in status["ecosystems"]:
        assert eco["last_imported_at"].endswith("Z") and eco["newest_modified"].endswith("Z")


def test_failed_jobs_are_listed_for_admins(
    client: Any, engine: Engine, tokens: dict[str, str]
) -> None:
    with write_transaction(engine) as conn:
        queue.enqueue(conn, "no-such-kind", {"x": 1}, max_attempts=1)
    run_jobs(engine)
    assert client.get("/api/v1/jobs/failed", headers=key(tokens["submitter"])).status_code == 403
    listing = client.get("/api/v1/jobs/failed", headers=key(tokens["admin"])).json()
    (job,) = listing["jobs"]
    assert (job["kind"], job["payload"], job["attempts"]) == ("no-such-kind", {"x": 1}, 1)
    assert "no handler" in job["last_error"]
    assert job["finished_at"].endswith("Z")
    assert (listing["limit"], listing["offset"]) == (100, 0)
    bad = client.get("/api/v1/jobs/failed?limit=0", headers=key(tokens["admin"]))
    assert bad.status_code == 400
