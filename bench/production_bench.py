"""Benchmark of the production set-up: rate limiting's cost, PostgreSQL, and scaling out.

All on the detail endpoint (``GET /api/v1/packages/{name}``), every configuration
on a fresh server per run, runs interleaved (a, b, c, d, a, b, ...), medians
compared, all in one invocation:

1. one API process on SQLite with rate limiting on (counters in Redis, limits
   raised so that nothing is refused) against the same server with it off;
2. one API process on PostgreSQL against one on SQLite (the same data);
3. two API processes on PostgreSQL (``foss serve --workers 2``) against one.

``wrk -c32`` on loopback, bounded runs. PostgreSQL: ``--postgres-url`` or
``FOSS_BENCH_POSTGRES_URL`` (a URL whose role may create databases; a database
is created for the run and dropped after); without either, the PostgreSQL
figures are left out and the run says so. Redis: ``FOSS_BENCH_REDIS_URL``, else
``FOSS_TEST_REDIS_URL``, else a ``redis-server`` started here.

    python bench/production_bench.py [--seconds 10] [--rounds 3] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HEADER, Server, WrkResult, free_port, row, start_registry, wrk
from sqlalchemy import create_engine, text

from foss_registry import storage
from foss_registry.db import make_engine, write_transaction
from foss_registry.intake.service import submit_package

PACKAGES = 2000


class Submission:
    """The required fields of a submission (the rest empty)."""

    def __init__(self, index: int) -> None:
        self.name = f"bench-package-{index}"
        self.version = f"1.{index % 7}.{index}"
        self.ecosystem = "pypi"
        self.license: str | None = "MIT"
        self.description: str | None = f"Benchmark package number {index}"
        self.homepage: str | None = None
        self.repository: str | None = None
        self.justification: str | None = None


def load(url: str) -> None:
    """Migrate a fresh database and store PACKAGES versions."""
    engine = make_engine(url)
    storage.upgrade(engine)
    with write_transaction(engine) as conn:
        for i in range(PACKAGES):
            submit_package(conn, Submission(i), "bench")
    engine.dispose()


def redis_url(workdir: Path) -> tuple[str, subprocess.Popen[bytes] | None]:
    """A Redis to count in: the configured one, else one started here."""
    configured = os.environ.get("FOSS_BENCH_REDIS_URL") or os.environ.get("FOSS_TEST_REDIS_URL")
    if configured:
        return configured, None
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("set FOSS_BENCH_REDIS_URL or install redis-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return f"redis://127.0.0.1:{port}/0", process


def postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """Create a fresh PostgreSQL database for the run; return its URL and a dropper."""
    name = f"foss_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


def cpu_busy() -> tuple[float, float]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    fields = [float(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def measure(
    configs: dict[str, tuple[dict[str, str], int]],
    workdir: Path,
    path: str,
    seconds: int,
    rounds: int,
) -> dict[str, list[WrkResult]]:
    """Run each configuration ``rounds`` times, interleaved, on a fresh server each time."""
    results: dict[str, list[WrkResult]] = {label: [] for label in configs}
    busy: dict[str, list[float]] = {label: [] for label in configs}
    for _ in range(rounds):
        for label, (env, workers) in configs.items():
            server: Server = start_registry(env, workdir, workers=workers)
            try:
                wrk(server.url + path, seconds=2)  # warm up
                busy0, total0 = cpu_busy()
                results[label].append(wrk(server.url + path, seconds=seconds))
                busy1, total1 = cpu_busy()
                # How saturated the machine was (wrk, servers, databases, anything else).
                busy[label].append((busy1 - busy0) / max(total1 - total0, 1.0))
            finally:
                server.stop()
    for label, shares in busy.items():
        print(f"  machine CPU busy during '{label}': " + ", ".join(f"{b:.0%}" for b in shares))
    return results


def median(results: list[WrkResult]) -> WrkResult:
    """The run with the median requests/s."""
    ordered = sorted(results, key=lambda r: r.requests_per_s)
    return ordered[len(ordered) // 2]


#: The comparisons printed: (configuration, its baseline, what the ratio is, target, p99 bound).
COMPARISONS = (
    (
        "detail, SQLite, rate limits on (Redis)",
        "detail, SQLite, rate limits off",
        "rate limits on / off",
        0.85,
        None,
    ),
    (
        "detail, PostgreSQL, 1 API process",
        "detail, SQLite, rate limits off",
        "PostgreSQL / SQLite, one API process each",
        0.5,
        10.0,
    ),
    (
        "detail, PostgreSQL, 2 API processes",
        "detail, PostgreSQL, 1 API process",
        "2 API processes on PostgreSQL / 1",
        1.7,
        None,
    ),
)


def main() -> None:
    """Run every comparison and print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("FOSS_BENCH_POSTGRES_URL"),
        help="a PostgreSQL URL whose role may create databases (FOSS_BENCH_POSTGRES_URL)",
    )
    parser.add_argument(
        "--part",
        choices=("all", "limits", "postgres"),
        default="all",
        help="only the rate limits, or only PostgreSQL (each against SQLite without limits)",
    )
    args = parser.parse_args()
    if not args.postgres_url and args.part != "limits":
        print(
            "PostgreSQL NOT MEASURED: no --postgres-url and no FOSS_BENCH_POSTGRES_URL; "
            "only the SQLite figures follow."
        )

    workdir = Path(tempfile.mkdtemp(prefix="foss-prod-bench-"))
    redis, redis_process = redis_url(workdir) if args.part != "postgres" else ("", None)
    pg_url, drop_pg = (
        postgres_database(args.postgres_url)
        if args.postgres_url and args.part != "limits"
        else ("", None)
    )
    try:
        sqlite_url = f"sqlite:///{workdir / 'bench.db'}"
        load(sqlite_url)
        if pg_url:
            load(pg_url)
        path = "/api/v1/packages/bench-package-1234"

        limits = {
            "FOSS_DATABASE_URL": sqlite_url,
            "FOSS_REDIS_URL": redis,
            "FOSS_RATE_LIMIT_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
            # Raised so that nothing is refused: every request is counted, none turned away.
            "FOSS_RATE_LIMIT_PER_IP": "100000000/minute",
            "FOSS_RATE_LIMITS_ENABLED": "true",
        }
        configs = {"detail, SQLite, rate limits off": ({"FOSS_DATABASE_URL": sqlite_url}, 1)}
        if redis:
            configs["detail, SQLite, rate limits on (Redis)"] = (limits, 1)
        if pg_url:
            configs["detail, PostgreSQL, 1 API process"] = ({"FOSS_DATABASE_URL": pg_url}, 1)
            configs["detail, PostgreSQL, 2 API processes"] = ({"FOSS_DATABASE_URL": pg_url}, 2)
        results = measure(configs, workdir, path, args.seconds, args.rounds)
    finally:
        if drop_pg is not None:
            drop_pg()
        if redis_process is not None:
            redis_process.terminate()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"wrk -c32 -t2, {args.seconds} s per run, median of {args.rounds} interleaved runs")
    print(HEADER)
    for label, runs in results.items():
        print(row(label, median(runs)))
        print("  runs (req/s): " + ", ".join(f"{r.requests_per_s:,.0f}" for r in runs))
    for label, base_label, what, target, p99_bound in COMPARISONS:
        if label not in results:
            print(f"{what}: not measured")
            continue
        other, base = median(results[label]), median(results[base_label])
        ratio = other.requests_per_s / base.requests_per_s
        bound = f", p99 {other.p99_ms:.1f} ms (target < {p99_bound:g})" if p99_bound else ""
        print(f"{what}: {ratio:.2f} (target >= {target}){bound}")


if __name__ == "__main__":
    main()
