"""Several processes on one database: 2 API processes and 2 job workers, 500 submissions."""

from __future__ import annotations

import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from foss_registry.jobs.models import jobs
from foss_registry.packages.models import package_versions
from foss_registry.scans.models import scans
from tests.conftest import empty_database
from tests.functional.conftest import create_token
from tests.functional.production.conftest import SCALE_BACKEND, engine_for
from tests.functional.server.conftest import foss_command, free_port, start_server

SUBMISSIONS = 500
CLIENTS = 16


def _scrape(url: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in httpx.get(url, timeout=10).text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


@pytest.mark.slow
def test_every_submission_is_scanned_exactly_once_by_two_workers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    database_url = empty_database(request, SCALE_BACKEND, tmp_path)
    engine = engine_for(database_url)
    secret = create_token(engine, "load", "submitter")
    env = {
        "FOSS_DATABASE_URL": database_url,
        # Load tests run in "local development" mode: no rate limits.
        "FOSS_RATE_LIMITS_ENABLED": "false",
        "FOSS_WORKER_POLL_SECONDS": "0.2",
    }
    api = start_server(tmp_path, env, ["--workers", "2", "--no-job-worker"])
    metric_ports = [free_port(), free_port()]
    workers = [
        subprocess.Popen(
            [*foss_command(), "worker", "--metrics-port", str(port)],
            env=api.env,
            stdout=(tmp_path / f"worker-{port}.log").open("wb"),
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            start_new_session=True,
        )
        for port in metric_ports
    ]
    try:

        def submit(index: int) -> int:
            body = {"name": f"load-{index}", "version": f"1.0.{index}", "ecosystem": "pypi"}
            with httpx.Client(base_url=api.url, timeout=60) as client:
                response = client.post("/api/v1/packages", json=body, headers={"X-API-Key": secret})
            return response.status_code

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = list(pool.map(submit, range(SUBMISSIONS)))
        assert statuses == [201] * SUBMISSIONS

        # Wait (bounded) until no job is queued or running.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                open_jobs = conn.execute(
                    select(func.count()).where(jobs.c.status.in_(("queued", "running")))
                ).scalar_one()
            if open_jobs == 0:
                break
            time.sleep(0.5)
        assert open_jobs == 0, "jobs stuck in the queue"

        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(package_versions)).scalar() == (
                SUBMISSIONS
            )
            job_rows = conn.execute(select(jobs.c.kind, jobs.c.status, jobs.c.attempts)).all()
            scan_rows = conn.execute(
                select(scans.c.version_id, scans.c.status, scans.c.scan_date)
            ).all()
        # One scan job per submission, each done on its first and only claim.
        scan_jobs = [row for row in job_rows if row.kind == "scan"]
        assert len(scan_jobs) == SUBMISSIONS
        assert {(row.status, row.attempts) for row in scan_jobs} == {("done", 1)}
        # One scan per version, finished (none left pending).
        assert len(scan_rows) == SUBMISSIONS
        assert len({row.version_id for row in scan_rows}) == SUBMISSIONS
        assert all(row.status != "pending" and row.scan_date is not None for row in scan_rows)

        # Both workers took part, and between them ran each scan job exactly once.
        runs = []
        for port in metric_ports:
            values = _scrape(f"http://127.0.0.1:{port}/metrics")
            runs.append(
                sum(
                    v
                    for name, v in values.items()
                    if name.startswith("foss_job_duration_seconds_count") and 'kind="scan"' in name
                )
            )
        assert sum(runs) == SUBMISSIONS, runs
        assert all(count > 0 for count in runs), runs

        # /metrics adds up both API processes' counters (multi-process mode).
        values = _scrape(f"{api.url}/metrics")
        created = sum(
            v
            for name, v in values.items()
            if re.match(r'foss_http_requests_total\{.*route="/api/v1/packages".*status="201"', name)
        )
        assert created == SUBMISSIONS
        assert values['foss_job_queue_depth{status="done"}'] >= SUBMISSIONS
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            assert worker.wait(timeout=20) == 0
        assert api.stop() == 0
        engine.dispose()
