"""Benchmark of the job queue: how soon the scans of a burst of submissions are done.

A burst of 5,000 submissions from 16 concurrent clients to ``foss serve`` with
its job worker, on SQLite, on PostgreSQL, and on PostgreSQL with two ``foss
worker`` processes beside it, rounds interleaved, all in one invocation; for
each, how long after the last answer the scan queue (and the whole queue:
enrichments too) is empty. Each database holds the PyPA advisories and the
submissions name packages that have some, so that every scan matches for real.
PostgreSQL: ``--postgres-url`` or ``FOSS_BENCH_POSTGRES_URL`` (a role that may
create databases; one is created per run and dropped after). ``--queued-first``
queues the whole burst with no worker running and then times the workers
draining it: their throughput, apart from how fast the intake was.

    python bench/queue_bench.py [--rounds 3] [--burst 5000] [--queued-first] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from bench.common import SHARED_DATA, start_registry
from bench.production_bench import postgres_database
from sqlalchemy import text

from foss_registry import storage
from foss_registry.db import make_engine, read_connection
from foss_registry.scans.service import IMPORT_RESCANS
from foss_registry.vulns import service as vulndb

BURST = 5000
CLIENTS = 16
TOKEN = "foss_bench-token-not-secret"
ADVISORIES = SHARED_DATA / "osv" / "PyPI-pypa.zip"


def advised_names(url: str) -> list[str]:
    """Migrate a fresh database, import the PyPA advisories; return the package names they name."""
    engine = make_engine(url)
    storage.upgrade(engine)
    vulndb.import_path(engine, ADVISORIES, rescans=IMPORT_RESCANS)
    with read_connection(engine) as conn:
        names = conn.execute(
            text(
                "SELECT DISTINCT normalized_name FROM advisory_packages "
                "WHERE ecosystem = 'pypi' ORDER BY normalized_name"
            )
        ).scalars()
        found = list(names)
    engine.dispose()
    return found


async def burst(url: str, names: list[str], count: int) -> None:
    """Send ``count`` submissions from CLIENTS concurrent clients; every one must be stored."""
    numbers = iter(range(count))
    failures: list[str] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": TOKEN}) as http:
            for n in numbers:
                body = {
                    "name": names[n % len(names)],
                    "version": f"{n // len(names)}.{n % 5}.0",
                    "ecosystem": "pypi",
                    "license": "MIT",
                }
                answer = await http.post("/api/v1/packages", json=body, timeout=60)
                if answer.status_code != 201:
                    failures.append(answer.text[:200])

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    if failures:
        raise SystemExit(f"{len(failures)} submissions refused, e.g. {failures[0]}")


def unfinished(engine: Any) -> tuple[int, int]:
    """(scan jobs, all jobs) queued or running."""
    with read_connection(engine) as conn:
        scans, everything = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE kind = 'scan'), count(*) FROM jobs "
                "WHERE status IN ('queued', 'running')"
            )
            if engine.dialect.name == "postgresql"
            else text(
                "SELECT sum(kind = 'scan'), count(*) FROM jobs "
                "WHERE status IN ('queued', 'running')"
            )
        ).one()
    return int(scans or 0), int(everything or 0)


def start_workers(count: int, env: dict[str, str], workdir: Path) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` `foss worker` processes."""
    return [
        subprocess.Popen(
            [sys.executable, "-m", "foss_registry.cli.main", "worker"],
            env=os.environ | {"FOSS_LOG_LEVEL": "WARNING"} | env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(count)
    ]


def drain_once(
    url: str, workdir: Path, extra_workers: int, count: int, queued_first: bool = False
) -> tuple[float, float, float]:
    """One burst; return (seconds of intake, scan queue empty after, whole queue empty after).

    ``queued_first``: no worker runs during the burst; then the workers (one
    `foss worker` in place of the server's, and the extra ones) start, and the
    times count from there (the workers' throughput, whatever the intake's speed).
    """
    names = advised_names(url)
    env = {"FOSS_DATABASE_URL": url, "FOSS_API_TOKENS": f"bench:submitter:{TOKEN}"}
    server = start_registry(env, workdir, job_worker=not queued_first)
    workers = [] if queued_first else start_workers(extra_workers, env, workdir)
    engine = make_engine(url, pool_size=1)
    try:
        time.sleep(2)  # every worker up and listening
        started = time.monotonic()
        asyncio.run(burst(server.url, names, count))
        last_answer = drain_from = time.monotonic()
        if queued_first:
            workers = start_workers(1 + extra_workers, env, workdir)
            drain_from = time.monotonic()
        scans_done: float | None = None
        deadline = drain_from + 600
        while time.monotonic() < deadline:
            scans, everything = unfinished(engine)
            if scans == 0 and scans_done is None:
                scans_done = time.monotonic()
            if everything == 0:
                break
            time.sleep(0.05)
        else:
            raise SystemExit("the queue did not empty within 10 minutes")
        all_done = time.monotonic()
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
        server.stop()
        engine.dispose()
    assert scans_done is not None
    return last_answer - started, scans_done - drain_from, all_done - drain_from


def drain(
    workdir: Path, rounds: int, admin_url: str, count: int, queued_first: bool = False
) -> None:
    """The burst on each set-up, rounds interleaved; print each run and the medians."""
    setups = {
        "SQLite, foss serve with its worker": ("sqlite", 0),
        "PostgreSQL, foss serve with its worker": ("postgresql", 0),
        "PostgreSQL, + 2 foss workers": ("postgresql", 2),
    }
    runs: dict[str, list[tuple[float, float, float]]] = {label: [] for label in setups}
    since = "the workers' start" if queued_first else "the last answer"
    for n, (label, (backend, extra)) in itertools.product(range(rounds), setups.items()):
        if backend == "sqlite":
            url, drop = f"sqlite:///{workdir / f'drain-{n}.db'}", None
        else:
            url, drop = postgres_database(admin_url)
        try:
            runs[label].append(drain_once(url, workdir, extra, count, queued_first))
        finally:
            if drop is not None:
                drop()
        intake, scans, everything = runs[label][-1]
        print(
            f"  {label}: intake {intake:.1f} s ({count / intake:,.0f}/s), scan queue empty "
            f"{scans:.1f} s after {since}, every job {everything:.1f} s"
        )
    print(f"\nburst of {count:,} submissions from {CLIENTS} clients, median of {rounds}")
    if queued_first:
        print("queued first: no worker ran during the burst; seconds from the workers' start")
    print(f"{'set-up':<44} {'intake s':>9} {'scans empty s':>14} {'all jobs s':>11}")
    for label, results in runs.items():
        middle = sorted(results, key=lambda r: r[1])[len(results) // 2]
        print(f"{label:<44} {middle[0]:>9.1f} {middle[1]:>14.1f} {middle[2]:>11.1f}")
    print("targets: PostgreSQL scan queue empty within 10 s, with 2 more workers within 5 s")


def main() -> None:
    """Run the bursts and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst", type=int, default=BURST, help="submissions per burst")
    parser.add_argument("--postgres-url", default=os.environ.get("FOSS_BENCH_POSTGRES_URL"))
    parser.add_argument(
        "--queued-first",
        action="store_true",
        help="queue the burst with no worker running, then time the workers draining it",
    )
    args = parser.parse_args()
    if not args.postgres_url:
        raise SystemExit("set --postgres-url or FOSS_BENCH_POSTGRES_URL")
    workdir = Path(tempfile.mkdtemp(prefix="foss-queue-bench-"))
    try:
        drain(workdir, args.rounds, args.postgres_url, args.burst, args.queued_first)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
