"""Submissions arriving together: each gets its own answer, and every 201 is stored.

On SQLite the writes of one process go through one writer thread that commits
the submissions queued together in one transaction, each in its own savepoint;
here the writer is held busy until every request has queued, so they are
certain to share a batch. On PostgreSQL each has its own transaction.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, func, select

from foss_registry.jobs.models import jobs
from foss_registry.packages.models import package_versions
from tests.functional.conftest import key

#: Long enough never to be reached; a test that hangs is a failure, not a wait.
TIMEOUT = 60


def test_one_duplicate_and_one_invalid_among_concurrent_submissions(
    client: Any, tokens: dict[str, str]
) -> None:
    bodies = [
        {"name": f"batch-pkg-{i}", "version": "1.0.0", "ecosystem": "pypi", "license": "MIT"}
        for i in range(10)
    ]
    # The same version as batch-pkg-3 in another spelling: one of the two is a 409.
    bodies.append({"name": "Batch_Pkg_3", "version": "1.0", "ecosystem": "pypi"})
    # A second version of batch-pkg-4 lists both versions in its record.
    bodies.append({"name": "batch-pkg-4", "version": "2.0.0", "ecosystem": "pypi"})
    bodies.append({"name": "batch-pkg-bad", "version": "not a version", "ecosystem": "pypi"})

    writer = client.registry.state.ctx.group_commit
    release = threading.Event()
    held = None
    if writer is not None:
        entered = threading.Event()

        def hold(conn: Connection) -> None:
            entered.set()
            assert release.wait(TIMEOUT)

        held = writer.submit(hold)
        assert entered.wait(TIMEOUT)

    def post(body: dict[str, Any]) -> Any:
        return client.post("/api/v1/packages", json=body, headers=key(tokens["submitter"]))

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        futures = [pool.submit(post, body) for body in bodies]
        if writer is not None:
            # The 400 is answered before it reaches the writer.
            deadline = time.monotonic() + TIMEOUT
            while writer.queued < len(bodies) - 1:
                assert time.monotonic() < deadline, "the submissions never queued"
                time.sleep(0.01)
            release.set()
            held.result(TIMEOUT)
        responses = [f.result(TIMEOUT) for f in futures]

    statuses = [r.status_code for r in responses]
    assert statuses[:3] + statuses[4:10] == [201] * 9
    assert sorted([statuses[3], statuses[10]]) == [201, 409]
    assert statuses[11] == 201
    assert statuses[12] == 400
    conflict = responses[3] if statuses[3] == 409 else responses[10]
    assert conflict.json()["code"] == "already_exists"

    created = [r for r in responses if r.status_code == 201]
    for response in created:
        # The record answered is the record stored, and its scan is queued.
        stored = client.get(response.headers["location"]).json()
        answered = response.json()
        # `versions` may have grown since by a later version of the same package.
        assert stored | {"versions": answered["versions"]} == answered
        assert all(v in stored["versions"] for v in answered["versions"])
        assert response.json()["submitted_by"] == "alice"
        scan = client.get(
            "/api/v1/security/scans/" + response.json()["name"],
            params={"ecosystem": "pypi", "version": response.json()["version"]},
        )
        assert scan.json()["status"] == "pending"
    assert client.get("/api/v1/packages/batch-pkg-4").json()["versions"] == [
        {"version": "2.0.0", "status": "pending"},
        {"version": "1.0.0", "status": "pending"},
    ]
    engine = client.registry.state.ctx.engine
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(package_versions)).scalar()
            == len(created)
            == 11
        )
        # One scan and one enrichment queued per stored submission, none for the refused ones.
        assert conn.execute(select(func.count()).select_from(jobs)).scalar() == 22
