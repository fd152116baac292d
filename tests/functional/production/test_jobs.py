"""Job leases, retries of abandoned jobs, batches killed midway, parking, graceful shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, func, select

from foss_registry.db import make_engine, utcnow, write_transaction
from foss_registry.intake.service import submit_package
from foss_registry.jobs import queue
from foss_registry.jobs.models import jobs
from foss_registry.packages.models import package_versions as pv
from foss_registry.reviews.models import reviews
from foss_registry.scans.models import scans
from foss_registry.scans.service import SCAN_BATCH_SIZE
from foss_registry.wiring import new_worker, run_enrichments, run_scans
from tests.conftest import POSTGRES_URL, empty_database
from tests.functional.conftest import key, submit
from tests.functional.server.conftest import foss_command


def job_row(engine: Engine, job_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).one()


def wait_for(predicate: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_a_job_held_by_a_killed_worker_is_retried_by_another_after_its_lease(
    client: Any, tokens: dict[str, str], engine: Engine, database_url: str, tmp_path: Path
) -> None:
    assert submit(client, tokens["submitter"]).status_code == 201
    # A worker process claims the scan job with a short lease (long enough for the checks
    # below on a busy machine) and is killed mid-job.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from foss_registry.db import make_engine, write_transaction\n"
            "from foss_registry.jobs import queue\n"
            "with write_transaction(make_engine(sys.argv[1])) as conn:\n"
            "    job = queue.claim(conn, 'doomed-worker', 10)\n"
            "print(job.id, flush=True)\n"
            "time.sleep(3600)\n",
            database_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    job_id = int(holder.stdout.readline())
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    held = job_row(engine, job_id)
    assert (held.status, held.locked_by, held.attempts) == ("running", "doomed-worker", 1)

    # While the lease runs, no other worker may take the job. The submission also queued
    # other jobs (e.g. enrichment); the survivor runs exactly those and leaves the held one.
    with engine.connect() as conn:
        others = set(
            conn.execute(
                select(jobs.c.id).where(
                    jobs.c.id != job_id, jobs.c.status == "queued", jobs.c.run_after <= utcnow()
                )
            ).scalars()
        )
    other = new_worker(engine, lease_seconds=30, worker_id="survivor")
    assert other.run_until_idle() == len(others)
    held = job_row(engine, job_id)
    assert (held.status, held.locked_by, held.attempts) == ("running", "doomed-worker", 1)
    with engine.connect() as conn:
        survivor_ran = set(
            conn.execute(select(jobs.c.id).where(jobs.c.locked_by == "survivor")).scalars()
        )
    assert job_id not in survivor_ran
    # Once it expires, a real `foss worker` process takes the job over and finishes it.
    env = os.environ | {"FOSS_DATABASE_URL": database_url, "FOSS_WORKER_POLL_SECONDS": "0.2"}
    worker = subprocess.Popen([*foss_command(), "worker"], env=env, cwd=tmp_path)
    try:
        wait_for(lambda: job_row(engine, job_id).status == "done")
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
    done = job_row(engine, job_id)
    assert done.attempts == 2 and done.locked_by != "doomed-worker"
    with engine.connect() as conn:
        statuses = conn.execute(select(scans.c.status)).scalars().all()
    assert statuses and "pending" not in statuses


def test_a_worker_whose_lease_was_taken_over_undoes_its_work(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        job_id = queue.enqueue(conn, "scan", {"version_id": 0, "scan_id": 0})
    with write_transaction(engine) as conn:
        slow = queue.claim(conn, "slow", lease_seconds=1)
    assert slow is not None and slow.id == job_id
    wait_for(lambda: job_row(engine, job_id).locked_until < _now(), timeout=10)
    with write_transaction(engine) as conn:
        fast = queue.claim(conn, "fast", lease_seconds=60)
    assert fast is not None and fast.id == job_id and fast.attempts == 2
    with write_transaction(engine) as conn:
        assert queue.complete(conn, fast, "fast")
    # The slow worker's completion is refused, so its transaction rolls back.
    with write_transaction(engine) as conn:
        assert not queue.complete(conn, slow, "slow")
    assert job_row(engine, job_id).locked_by == "fast"


def _now() -> Any:
    from foss_registry.db import utcnow

    return utcnow()


def test_a_job_failing_every_attempt_is_parked_with_its_error_for_admins(
    client: Any, tokens: dict[str, str], engine: Engine
) -> None:
    # A job kind nothing handles fails on every attempt: real worker behaviour.
    with write_transaction(engine) as conn:
        job_id = queue.enqueue(conn, "no-such-kind", {"n": 1}, max_attempts=2)
    worker = new_worker(engine, lease_seconds=30)
    assert worker.run_until_idle() == 1
    first = job_row(engine, job_id)
    assert first.status == "queued" and first.attempts == 1
    assert "no handler" in first.last_error
    # The retry waits for its backoff, then fails for good.
    wait_for(lambda: worker.run_batch(), timeout=30)
    parked = job_row(engine, job_id)
    assert (parked.status, parked.attempts) == ("failed", 2)
    assert worker.run_until_idle() == 0  # not retried forever

    listed = client.get("/api/v1/jobs/failed", headers=key(tokens["admin"]))
    assert listed.status_code == 200, listed.text
    [entry] = [j for j in listed.json()["jobs"] if j["id"] == job_id]
    assert entry["kind"] == "no-such-kind" and entry["attempts"] == 2
    assert "no handler for job kind 'no-such-kind'" in entry["last_error"]
    # Only admins see them.
    assert client.get("/api/v1/jobs/failed").status_code == 401
    assert client.get("/api/v1/jobs/failed", headers=key(tokens["reviewer"])).status_code == 403


def test_abandoning_gives_the_job_back_without_counting_the_attempt(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        job_id = queue.enqueue(conn, "scan", {"version_id": 0, "scan_id": 0})
    worker = new_worker(engine, lease_seconds=300, worker_id="stopping")
    with write_transaction(engine) as conn:
        worker.held = [queue.claim(conn, worker.worker_id, 300)]
    worker.abandon()
    released = job_row(engine, job_id)
    assert (released.status, released.attempts, released.locked_by) == ("queued", 0, None)


def test_foss_worker_stops_on_sigterm(database_url: str, tmp_path: Path) -> None:
    env = os.environ | {"FOSS_DATABASE_URL": database_url}
    worker = subprocess.Popen(
        [*foss_command(), "worker"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stderr is not None
    while "started" not in (line := worker.stderr.readline()):
        assert line, "worker exited before starting"
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    assert "stopped" in worker.stderr.read()


class _Submission:
    """The fields of one submission (a PyPI package, under MIT unless told)."""

    def __init__(self, n: int, license_id: str = "MIT") -> None:
        self.name, self.version, self.ecosystem = f"batch-{n}", "1.0.0", "pypi"
        self.license: str | None = license_id
        self.description = self.homepage = self.repository = self.justification = None


@pytest.mark.skipif(
    not POSTGRES_URL, reason="holds a worker inside its transaction with a PostgreSQL row lock"
)
def test_a_foss_worker_killed_inside_a_batch_loses_no_job_and_runs_none_twice(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    database_url = empty_database(request, "postgresql", tmp_path)
    engine = make_engine(database_url, pool_size=2)
    with write_transaction(engine) as conn:
        for n in range(120):
            submit_package(conn, _Submission(n), "alice")
    with engine.connect() as conn:
        first_batch = conn.execute(
            select(jobs.c.id, jobs.c.payload)
            .where(jobs.c.kind == "scan")
            .order_by(jobs.c.id)
            .limit(SCAN_BATCH_SIZE)
        ).all()
    # Hold the row of a scan near the end of the first batch: the worker writes the
    # batch's scans, and waits there in the middle of its transaction.
    blocker = engine.connect()
    blocking = blocker.begin()
    held_scan = first_batch[-10].payload["scan_id"]
    blocker.execute(select(scans.c.id).where(scans.c.id == held_scan).with_for_update())

    env = os.environ | {"FOSS_DATABASE_URL": database_url, "FOSS_JOB_LEASE_SECONDS": "5"}
    doomed = subprocess.Popen([*foss_command(), "worker"], env=env, cwd=tmp_path)
    try:

        def waiting_on_the_lock() -> bool:
            with engine.connect() as conn:
                return bool(
                    conn.exec_driver_sql(
                        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    ).first()
                )

        wait_for(waiting_on_the_lock)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait()
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait()
    batch_ids = [row.id for row in first_batch]
    with engine.connect() as conn:
        held = conn.execute(select(jobs).where(jobs.c.id.in_(batch_ids))).all()
        # The worker had updated scans before the held one; none of it was committed.
        finished = conn.execute(
            select(func.count()).select_from(scans).where(scans.c.status != "pending")
        ).scalar_one()
    assert {(j.status, j.attempts) for j in held} == {("running", 1)}
    assert {j.locked_by for j in held} == {held[0].locked_by}
    assert f":{doomed.pid}:" in held[0].locked_by
    assert finished == 0
    blocking.rollback()
    blocker.close()

    # Another real worker takes the batch over once its lease expires and runs everything.
    survivor = subprocess.Popen([*foss_command(), "worker"], env=env, cwd=tmp_path)
    try:

        def drained() -> bool:
            with engine.connect() as conn:
                return not conn.execute(
                    select(jobs.c.id).where(jobs.c.status.in_(["queued", "running"]))
                ).first()

        wait_for(drained, timeout=120)
    finally:
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=15) == 0
    with engine.connect() as conn:
        everything = conn.execute(select(jobs)).all()
        scanned = conn.execute(
            select(scans.c.version_id, func.count(), func.min(scans.c.status))
            .group_by(scans.c.version_id)
        ).all()
    assert {j.status for j in everything} == {"done"}
    # The killed batch ran once more, and only once; every other job once.
    assert {j.attempts for j in everything if j.id in batch_ids} == {2}
    assert {j.attempts for j in everything if j.id not in batch_ids} == {1}
    assert all(f":{survivor.pid}:" in j.locked_by for j in everything)
    # One scan per version, finished.
    assert len(scanned) == 120
    assert {(count, status) for _, count, status in scanned} == {(1, "not_scanned")}
    engine.dispose()


def _statements(engine: Engine, work: Callable[[Connection], None]) -> int:
    """How many statements ``work`` sends through SQLAlchemy in one write transaction."""
    sent = 0

    def count(*_: Any) -> None:
        nonlocal sent
        sent += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        with write_transaction(engine) as conn:
            work(conn)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sent


def test_a_batch_of_scans_or_enrichments_costs_as_many_statements_whatever_its_size(
    engine: Engine,
) -> None:
    # Every other version under a license the policy rejects: its batch records decisions.
    with write_transaction(engine) as conn:
        for n in range(4 + SCAN_BATCH_SIZE):
            submit_package(conn, _Submission(n, "AGPL-3.0-only" if n % 2 else "MIT"), "alice")
    with engine.connect() as conn:
        queued = conn.execute(select(jobs.c.kind, jobs.c.payload).order_by(jobs.c.id)).all()
    scan = [payload for kind, payload in queued if kind == "scan"]
    enrich = [payload for kind, payload in queued if kind == "enrich"]

    small = _statements(engine, lambda conn: run_scans(conn, scan[:4]))
    large = _statements(engine, lambda conn: run_scans(conn, scan[4:]))
    assert small == large
    # The first enrichment alone: the process builds its index of approved names once.
    _statements(engine, lambda conn: run_enrichments(conn, enrich[:1]))
    small = _statements(engine, lambda conn: run_enrichments(conn, enrich[1:5]))
    large = _statements(engine, lambda conn: run_enrichments(conn, enrich[5 : 5 + 16]))
    assert small == large

    # The batches did their work: every version scanned, the rejected license rejected.
    with engine.connect() as conn:
        decided = conn.execute(
            select(pv.c.name, pv.c.status, pv.c.policy_reasons, scans.c.status)
            .join(scans, scans.c.version_id == pv.c.id)
            .order_by(pv.c.id)
        ).all()
        history = conn.execute(select(reviews.c.by, reviews.c.decision)).all()
    assert len(decided) == 4 + SCAN_BATCH_SIZE
    assert {scan_status for *_, scan_status in decided} == {"not_scanned"}
    assert [status for _, status, _, _ in decided] == [
        "rejected" if n % 2 else "pending" for n in range(4 + SCAN_BATCH_SIZE)
    ]
    assert all(reasons for _, _, reasons, _ in decided)
    assert history == [("policy", "reject")] * ((4 + SCAN_BATCH_SIZE) // 2)
