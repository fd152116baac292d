"""Nothing lost: `kill -9` of the whole server ten times while 8 clients submit."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from foss_registry.jobs.models import jobs
from foss_registry.packages.models import package_versions
from foss_registry.scans.models import scans
from tests.functional.conftest import create_token
from tests.functional.production.conftest import engine_for
from tests.functional.server.conftest import ServerProcess, free_port, start_server

CLIENTS = 8
KILLS = 10
RUN_SECONDS = 2.5


class Submitters:
    """Clients submitting new versions without pause; they keep what got a 201."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret
        self.stop = threading.Event()
        # Set while a server is up; clients wait while it starts (then they would
        # only slow its health check down), never while it is killed.
        self.running = threading.Event()
        self.acknowledged: list[dict[str, Any]] = []
        self.attempts = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(CLIENTS)]

    def _run(self, client_id: int) -> None:
        n = 0
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop.is_set():
                if not self.running.wait(timeout=0.1):
                    continue
                n += 1
                body = {"name": f"crash-{client_id}-{n}", "version": "1.0.0", "ecosystem": "pypi"}
                with self.lock:
                    self.attempts += 1
                try:
                    response = client.post(
                        "/api/v1/packages", json=body, headers={"X-API-Key": self.secret}
                    )
                except httpx.HTTPError:
                    time.sleep(0.05)  # the server is down or died mid-request
                    continue
                if response.status_code == 201:
                    with self.lock:
                        self.acknowledged.append(response.json())

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def _kill9(server: ServerProcess) -> None:
    # The whole process group: `foss serve`, its API process and its job worker.
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()


@pytest.mark.slow
def test_every_acknowledged_submission_survives_kill_9(
    tmp_path: Path, database_url: str, record_property: Any
) -> None:
    engine = engine_for(database_url)
    secret = create_token(engine, "crash", "submitter")
    port = free_port()
    env = {
        "FOSS_DATABASE_URL": database_url,
        "FOSS_RATE_LIMITS_ENABLED": "false",
        # Jobs held by a killed worker come back quickly.
        "FOSS_JOB_LEASE_SECONDS": "4",
        "FOSS_WORKER_POLL_SECONDS": "0.2",
    }
    url = f"http://127.0.0.1:{port}"
    clients = Submitters(url, secret)
    clients.start()
    acknowledged_per_run = []
    try:
        for _ in range(KILLS):
            server = start_server(tmp_path, env, port=port)
            before = len(clients.acknowledged)
            clients.running.set()
            time.sleep(RUN_SECONDS)
            _kill9(server)  # while the clients are submitting
            clients.running.clear()
            acknowledged_per_run.append(len(clients.acknowledged) - before)
    finally:
        clients.finish()

    server = start_server(tmp_path, env, port=port)
    try:
        # Every acknowledged submission is there, whole, as it was acknowledged.
        with httpx.Client(base_url=url, timeout=30) as client:
            for ack in clients.acknowledged:
                stored = client.get(
                    f"/api/v1/packages/{ack['name']}",
                    params={"ecosystem": "pypi", "version": ack["version"]},
                )
                assert stored.status_code == 200, ack["name"]
                record = stored.json()
                for field in ("name", "version", "purl", "submitted_by", "submitted_at"):
                    assert record[field] == ack[field]

        # Nothing half-written: each version has its scan and its scan job; the jobs
        # that killed workers held are retried after their lease, none stay stuck. (Each
        # submission also queues an enrich job; the scan jobs are what this test follows.)
        scan_jobs = jobs.c.kind == "scan"
        deadline = time.monotonic() + 300
        while True:
            with engine.connect() as conn:
                open_jobs = conn.execute(
                    select(func.count()).where(scan_jobs, jobs.c.status.in_(("queued", "running")))
                ).scalar_one()
            if open_jobs == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        with engine.connect() as conn:
            versions = conn.execute(select(package_versions.c.id)).scalars().all()
            scan_rows = conn.execute(select(scans.c.version_id, scans.c.status)).all()
            job_rows = conn.execute(select(jobs.c.payload, jobs.c.status).where(scan_jobs)).all()
        assert open_jobs == 0
        assert sorted(r.version_id for r in scan_rows) == sorted(versions)
        assert sorted(r.payload["version_id"] for r in job_rows) == sorted(versions)
        assert {r.status for r in job_rows} == {"done"}
        assert "pending" not in {r.status for r in scan_rows}
    finally:
        assert server.stop() == 0
        engine.dispose()

    counts = {
        "attempted": clients.attempts,
        "acknowledged": len(clients.acknowledged),
        "stored": len(versions),
        "per_run": acknowledged_per_run,
    }
    record_property("crash_counts", counts)
    print(f"\ncrash test ({database_url.split(':')[0]}): {counts}")
    assert len(clients.acknowledged) > 0 and all(n > 0 for n in acknowledged_per_run)
    # A request cut off by the kill may have committed without its 201 reaching the
    # client; it is then stored whole too. Nothing acknowledged is missing.
    assert len(versions) >= len(clients.acknowledged)
