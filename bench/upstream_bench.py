"""Benchmark of enrichment: typosquat checks, intake with enrichment on, 1,000 enrichments.

1. Typosquat: one name against 10,000 known names (the shipped PyPI and npm
   lists in one index), per check, against a loop of edit distances over the
   same names (the baseline).
2. Intake: ``POST /packages`` per second with ``wrk -c32`` against ``foss serve``
   (its job worker running) without an upstream, then with the fake upstream on
   loopback configured, in the same invocation: the ratio must stay >= 0.8.
3. 1,000 enrichments against the fake upstream (in a process of its own): by
   the job worker (one job after another, as after submissions) and by ``foss
   enrich`` (concurrent requests, batched writes), each against a baseline run
   of the same jobs with no upstream configured (the store and the policy
   alone); then the asking alone, one request at a time against 8 in flight.

Run: ``.venv/bin/python -m bench.upstream_bench [--seconds 10] [--enrichments N]
[--only typosquat|intake|enrichment]``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import HEADER, row, start, wrk
from tests.fakes.upstream import FakeUpstream

from foss_registry.signals.popular import popular_names
from foss_registry.signals.typosquat import TyposquatIndex, one_edit, swapped_pair

TOKEN = "foss_bench-token-not-secret"
LUA_POST = """
local counter = 0
local threads = 0
-- setup() runs once per thread in the main interpreter: each thread gets its own number.
setup = function(thread)
  threads = threads + 1
  thread:set("tid", tostring(threads))
end
request = function()
  counter = counter + 1
  local body = '{{"name":"new-{run}-' .. tid .. '-' .. counter .. '","version":"1.0.0","ecosystem":"pypi","license":"MIT"}}'
  return wrk.format("POST", "/api/v1/packages",
    {{["Content-Type"] = "application/json", ["X-API-Key"] = "{token}"}}, body)
end
"""


def typosquat_bench() -> None:
    names = list(popular_names("pypi")) + list(popular_names("npm"))
    index = TyposquatIndex("npm").add(names, "popular")
    candidates = [n[:-1] + "x" for n in names[:5000]] + [n + "s" for n in names[5000:]]
    started = time.perf_counter()
    hits = sum(index.check(c) is not None for c in candidates)
    per_check = (time.perf_counter() - started) / len(candidates)
    # The baseline compares each candidate with every known name, as a loop must
    # (to report the best match it cannot stop at the first).
    loop_sample = candidates[::500]
    started = time.perf_counter()
    for c in loop_sample:
        [n for n in names if one_edit(c, n) or swapped_pair(c, n)]
    per_loop = (time.perf_counter() - started) / len(loop_sample)
    print(f"typosquat: {len(index):,} known names, {len(candidates):,} checks, {hits:,} matches")
    print(f"  index:            {per_check * 1e6:8.1f} us per check")
    print(f"  loop (baseline):  {per_loop * 1e6:8.1f} us per check  ({per_loop / per_check:,.0f} times slower)")


def _serve(work: Path, db: Path, extra: dict[str, str]) -> object:
    from bench.common import free_port

    port = free_port()
    env = {
        "FOSS_DATABASE_URL": f"sqlite:///{db}",
        "FOSS_API_TOKENS": f"bench:submitter:{TOKEN}",
        "FOSS_RATE_LIMITS_ENABLED": "false",
        "FOSS_LOG_LEVEL": "WARNING",
        "FOSS_UPSTREAM_PYPI": "",
        "FOSS_UPSTREAM_NPM": "",
        "FOSS_UPSTREAM_MAVEN": "",
    } | extra
    cmd = [sys.executable, "-m", "foss_registry.cli.main", "serve", "--port", str(port)]
    return start(cmd, env, port, "/healthz", work)


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def intake_bench(pypi_url: str, seconds: int) -> None:
    results = {}
    with tempfile.TemporaryDirectory(prefix="foss-upstream-bench-") as tmp:
        work = Path(tmp)
        for label, extra in (("off", {}), ("on", {"FOSS_UPSTREAM_PYPI": pypi_url})):
            db = work / f"{label}.db"
            server = _serve(work, db, extra)
            try:
                script = work / f"{label}.lua"
                script.write_text(LUA_POST.format(run=secrets.token_hex(4), token=TOKEN))
                wrk(server.url, seconds=2, script=script)  # type: ignore[attr-defined]
                results[label] = wrk(server.url, seconds=seconds, script=script)  # type: ignore[attr-defined]
                enriched = _count(db, "SELECT count(*) FROM upstream_records")
                stored = _count(db, "SELECT count(*) FROM package_versions")
            finally:
                server.stop()  # type: ignore[attr-defined]
            print(f"  enrichment {label}: {stored:,} stored, {enriched:,} enriched while the load ran")
    print(HEADER)
    print(row("POST /packages, enrichment off", results["off"]))
    print(row("POST /packages, enrichment on (fake upstream)", results["on"], results["off"]))


def _fake_in_child() -> tuple[subprocess.Popen[str], str]:
    """The fake upstream in a process of its own (as a real registry would be): its URL.

    In this process it would share the interpreter lock with the worker being timed.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.upstream_bench", "--serve-fake"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


def serve_fake() -> None:
    """Serve the fake upstream until stdin closes (``--serve-fake``, started by the benchmark)."""
    with FakeUpstream() as fake:
        # Every project the benchmark submits exists upstream with a wheel and its metadata.
        fake.add_pypi("bench-template", "1.0.0", license_expression="MIT",
                      project_urls={"Source": "https://git.example.internal/bench"})
        fake.fallback_project = "bench-template"
        print(fake.pypi_url, flush=True)
        sys.stdin.read()


def _use(db: Path, upstream: str) -> None:
    from foss_registry.config import get_settings

    os.environ["FOSS_DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["FOSS_UPSTREAM_PYPI"] = upstream
    get_settings.cache_clear()


def _by_worker(db: Path, upstream: str) -> float:
    from foss_registry.db import make_engine
    from foss_registry.wiring import new_worker

    _use(db, upstream)
    engine = make_engine(f"sqlite:///{db}")
    worker = new_worker(engine)
    started = time.perf_counter()
    worker.run_until_idle()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def _by_command(db: Path, upstream: str) -> float:
    _use(db, upstream)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "foss_registry.cli.main", "enrich", "--ecosystem", "pypi"],
        env=os.environ.copy(), check=True, capture_output=True,
    )
    return time.perf_counter() - started


def _asking(db: Path, upstream: str, concurrency: int) -> float:
    from foss_registry.db import make_engine
    from foss_registry.enrichment import service as enrichment

    _use(db, upstream)
    engine = make_engine(f"sqlite:///{db}")
    ids = list(range(1, _count(db, "SELECT max(id) FROM package_versions") + 1))
    started = time.perf_counter()
    enrichment.fetch_many(engine, ids, concurrency=concurrency)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def enrichment_bench(pypi_url: str, count: int) -> None:
    from foss_registry import storage
    from foss_registry.db import make_engine, write_transaction
    from foss_registry.enrichment.service import popular_index

    popular_index("pypi")  # built once per process: not part of any timed run
    with tempfile.TemporaryDirectory(prefix="foss-enrich-bench-") as tmp:
        template = Path(tmp) / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        storage.upgrade(engine)
        _submit_many(engine, count)
        with write_transaction(engine) as conn:  # only the enrich jobs: the scans are not timed
            conn.exec_driver_sql("DELETE FROM jobs WHERE kind != 'enrich'")
        engine.dispose()

        def fresh(label: str) -> Path:
            db = Path(tmp) / f"{label}.db"
            shutil.copyfile(template, db)
            return db

        target = 30 * count / 1000
        print(f"{'':58s}{'seconds':>9s}{'per s':>8s}{'vs baseline':>13s}")
        for what, run in (("by the job worker (one job at a time)", _by_worker),
                          ("by foss enrich (process start included)", _by_command)):
            base = run(fresh("base"), "")
            db = fresh("on")
            timed = run(db, pypi_url)
            ok = _count(db, "SELECT count(*) FROM upstream_records WHERE status = 'ok'")
            print(f"{count:,} enrichments {what}:")
            print(f"  {'baseline: no upstream configured (store and policy only)':56s}"
                  f"{base:9.1f}{count / base:8.0f}{'1.00':>13s}")
            print(f"  {f'fake upstream on loopback ({ok:,} ok)':56s}"
                  f"{timed:9.1f}{count / timed:8.0f}{timed / base:13.2f}"
                  f"   {'within' if timed < target else 'OVER'} the target (30 s per 1,000)")
        one = _asking(fresh("ask1"), pypi_url, 1)
        many = _asking(fresh("ask8"), pypi_url, 8)
        print(f"asking only ({count:,} versions, 2 requests each, nothing stored):")
        print(f"  {'baseline: one request at a time':56s}{one:9.1f}{count / one:8.0f}{'1.00':>13s}")
        print(f"  {'8 in flight over kept-alive connections':56s}"
              f"{many:9.1f}{count / many:8.0f}{many / one:13.2f}")


def _submit_many(engine: object, count: int) -> None:
    from foss_registry.db import write_transaction

    try:
        from foss_registry.intake.service import submit_package  # after the move to intake/
    except ImportError:
        from foss_registry.packages.intake import submit_package  # type: ignore[no-redef]
    from foss_registry.packages.service import Submission

    with write_transaction(engine) as conn:  # type: ignore[arg-type]
        for i in range(count):
            body = Submission(name=f"bench-{i}", version="1.0.0", ecosystem="pypi", license="MIT")
            submit_package(conn, body, "bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--enrichments", type=int, default=1000)
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=("typosquat", "intake", "enrichment"))
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake()
        return
    if args.only in (None, "typosquat"):
        typosquat_bench()
    child, pypi_url = _fake_in_child()
    try:
        if args.only in (None, "intake"):
            print(f"\nintake, wrk -t2 -c32 -d{args.seconds}s on loopback, 1 API process and its job worker")
            intake_bench(pypi_url, args.seconds)
        if args.only in (None, "enrichment"):
            print(f"\n{args.enrichments:,} enrichments against the fake upstream (its own process, loopback)")
            enrichment_bench(pypi_url, args.enrichments)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


if __name__ == "__main__":
    main()
