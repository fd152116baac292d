"""Benchmark of the vulnerability database: import, one scan, and re-scans after an import.

Each phase runs in a fresh Python process so that its peak memory is its own:

1. baseline: read every record of the shared OSV zips (``vulns.osv.iter_records``),
   the least an import can do; then import them all into a fresh SQLite file
   (``foss vulndb import``'s code path) and print time, peak RSS and the ratio;
2. one scan in-process against the full database: median of many scans of
   well-known versions (warm) and of 1,000 different packages (each its first
   scan), against a baseline of one indexed SELECT of the package's candidates;
3. 10,000 stored versions of packages the data names, then the import of all
   zips (which queues their re-scans), then the worker runs the re-scans;
   the baseline is 10,000 indexed candidate SELECTs.

    python bench/vulndb_bench.py            # all phases
    python bench/vulndb_bench.py --phase scan --keep /tmp/vulndb.db
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA

ZIPS = sorted((SHARED_DATA / "osv").glob("*.zip"))
RESCAN_VERSIONS = 10_000


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_engine(path: Path) -> Any:
    from foss_registry import storage
    from foss_registry.db import make_engine

    engine = make_engine(f"sqlite:///{path}")
    storage.upgrade(engine)
    return engine


def phase_parse(_db: Path) -> dict[str, Any]:
    from foss_registry.vulns.osv import iter_records

    start = time.perf_counter()
    count = sum(1 for path in ZIPS for _ in iter_records(path, on_error=lambda e: None))
    return {"records": count, "seconds": time.perf_counter() - start, "rss_mb": peak_rss_mb()}


def phase_import(db: Path) -> dict[str, Any]:
    from foss_registry.scans.service import IMPORT_RESCANS
    from foss_registry.vulns import service

    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)
    engine = fresh_engine(db)
    start = time.perf_counter()
    report = service.ImportReport()
    for path in ZIPS:
        report.merge(service.import_path(engine, path, rescans=IMPORT_RESCANS))
    seconds = time.perf_counter() - start
    return {
        "records": report.read,
        "new": report.new,
        "seconds": seconds,
        "rss_mb": peak_rss_mb(),
        "db_mb": db.stat().st_size / 1e6,
    }


WELL_KNOWN = [
    ("pypi", "flask", "2.3.1"),
    ("pypi", "django", "3.2.1"),
    ("pypi", "requests", "2.31.0"),
    ("pypi", "requeests", "1.0.0"),
    ("npm", "lodash", "4.17.11"),
    ("npm", "left-pad", "1.3.0"),
    ("maven", "org.apache.logging.log4j:log4j-core", "2.14.1"),
]


def _candidate_select(conn: Any, ecosystem: str, name: str) -> list[Any]:
    from sqlalchemy import select

    from foss_registry.vulns.models import advisory_packages as ap

    return list(
        conn.execute(
            select(ap.c.advisory_id).where(
                ap.c.ecosystem == ecosystem, ap.c.normalized_name == name
            )
        )
    )


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def sample_packages(conn: Any, count: int, seed: int = 42) -> list[tuple[str, str, str]]:
    """Distinct (ecosystem, name, version) the data names, with a version it lists if any."""
    from sqlalchemy import select

    from foss_registry import ecosystems
    from foss_registry.vulns.models import advisories
    from foss_registry.vulns.models import advisory_packages as ap
    from foss_registry.vulns.osv import decode_record

    pairs = conn.execute(
        select(ap.c.ecosystem, ap.c.normalized_name, ap.c.advisory_id).order_by(
            ap.c.ecosystem, ap.c.normalized_name
        )
    ).all()
    rng = random.Random(seed)
    rng.shuffle(pairs)
    chosen: dict[tuple[str, str], str] = {}
    for ecosystem, name, advisory_id in pairs:
        if len(chosen) >= count:
            break
        if (ecosystem, name) in chosen:
            continue
        eco = ecosystems.get(ecosystem)
        raw = conn.execute(
            select(advisories.c.record).where(advisories.c.id == advisory_id)
        ).scalar()
        listed = [
            v
            for entry in decode_record(bytes(raw)).affected
            if entry.package is not None
            for v in entry.versions
        ]
        for version in [*listed[:1], "1.0.0"]:
            try:
                eco.canonical_version(version)
            except Exception:
                continue
            chosen[(ecosystem, name)] = version
            break
    return [(e, n, v) for (e, n), v in chosen.items()]


def phase_scan(db: Path) -> dict[str, Any]:
    from foss_registry.db import make_engine, read_connection
    from foss_registry.scans.scanner import ScanConfig, scan_version

    engine = make_engine(f"sqlite:///{db}")
    config = ScanConfig()
    out: dict[str, Any] = {"well_known": {}}
    with read_connection(engine) as conn:
        for ecosystem, name, version in WELL_KNOWN:
            start = time.perf_counter()
            outcome = scan_version(conn, ecosystem, name, version, config)
            first = time.perf_counter() - start
            times = []
            for _ in range(200):
                start = time.perf_counter()
                scan_version(conn, ecosystem, name, version, config)
                times.append(time.perf_counter() - start)
            base = []
            for _ in range(200):
                start = time.perf_counter()
                _candidate_select(conn, ecosystem, name)
                base.append(time.perf_counter() - start)
            out["well_known"][f"{name} {version}"] = {
                "findings": len(outcome.findings),
                "status": outcome.status,
                "first_ms": first * 1000,
                "median_ms": _median_ms(times),
                "select_median_ms": _median_ms(base),
            }
        mixed = sample_packages(conn, 1000, seed=7)
        cold = []
        for ecosystem, name, version in mixed:
            start = time.perf_counter()
            scan_version(conn, ecosystem, name, version, config)
            cold.append(time.perf_counter() - start)
        base = []
        for ecosystem, name, _ in mixed:
            start = time.perf_counter()
            _candidate_select(conn, ecosystem, name)
            base.append(time.perf_counter() - start)
    out["mixed"] = {
        "versions": len(mixed),
        "median_ms": _median_ms(cold),
        "p95_ms": statistics.quantiles(cold, n=20)[-1] * 1000,
        "max_ms": max(cold) * 1000,
        "select_median_ms": _median_ms(base),
    }
    return out


def phase_rescan(db: Path) -> dict[str, Any]:
    import shutil

    from sqlalchemy import func, select

    from foss_registry.db import make_engine, read_connection, write_transaction
    from foss_registry.jobs.models import jobs
    from foss_registry.packages import service as packages
    from foss_registry.scans.models import scans
    from foss_registry.scans.scanner import ScanConfig, complete_scans
    from foss_registry.scans.service import IMPORT_RESCANS, SCAN_BATCH_JOB
    from foss_registry.vulns import service
    from foss_registry.wiring import new_worker

    # The versions come from a database that holds the data (phase import's file).
    source = make_engine(f"sqlite:///{db}")
    with read_connection(source) as conn:
        wanted = sample_packages(conn, RESCAN_VERSIONS)
    source.dispose()
    out: dict[str, Any] = {"versions": len(wanted)}
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder) / "scan-only.db", Path(folder) / "worker.db"
        engine = fresh_engine(first)
        with write_transaction(engine) as conn:
            for ecosystem, name, version in wanted:
                packages.submit(
                    conn,
                    packages.Submission(name=name, version=version, ecosystem=ecosystem),
                    submitted_by="bench",
                    license_expression="MIT",
                )
        start = time.perf_counter()
        report = service.ImportReport()
        for path in ZIPS:
            report.merge(service.import_path(engine, path, rescans=IMPORT_RESCANS))
        out["import_with_rescans_seconds"] = time.perf_counter() - start
        out["rescans_queued"] = report.rescans
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        shutil.copy(first, second)

        # 1. The re-scans alone, in the jobs' batches and transactions.
        engine = make_engine(f"sqlite:///{first}")
        with read_connection(engine) as conn:
            batches = [
                p["scan_ids"]
                for p in conn.execute(
                    select(jobs.c.payload).where(jobs.c.kind == SCAN_BATCH_JOB).order_by(jobs.c.id)
                ).scalars()
            ]
        start = time.perf_counter()
        for batch in batches:
            with write_transaction(engine) as conn:
                complete_scans(conn, batch, ScanConfig())
        out["scan_only_seconds"] = time.perf_counter() - start
        with read_connection(engine) as conn:
            start = time.perf_counter()
            for ecosystem, name, _ in wanted:
                _candidate_select(conn, ecosystem, name)
            out["select_seconds"] = time.perf_counter() - start
        engine.dispose()

        # 2. What the worker does: the re-scans, then the policy on each version.
        engine = make_engine(f"sqlite:///{second}")
        start = time.perf_counter()
        out["jobs"] = new_worker(engine).run_until_idle()
        out["worker_seconds"] = time.perf_counter() - start
        with read_connection(engine) as conn:
            out["statuses"] = dict(
                conn.execute(select(scans.c.status, func.count()).group_by(scans.c.status)).all()
            )
        engine.dispose()
    out["rss_mb"] = peak_rss_mb()
    return out


PHASES = {
    "parse": phase_parse,
    "import": phase_import,
    "scan": phase_scan,
    "rescan": phase_rescan,
}


def run_child(phase: str, db: Path) -> dict[str, Any]:
    """Run one phase in a fresh interpreter and return its JSON result."""
    done = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--keep", str(db), "--child"],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=sorted(PHASES))
    parser.add_argument("--keep", type=Path, help="SQLite file to import into and scan")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(PHASES[args.phase](args.keep)))
        return
    with tempfile.TemporaryDirectory() as folder:
        db = args.keep or Path(folder) / "vulndb.db"
        phases = [args.phase] if args.phase else ["parse", "import", "scan", "rescan"]
        results = {phase: run_child(phase, db) for phase in phases}
    report(results)


def report(results: dict[str, Any]) -> None:
    print(f"OSV zips: {len(ZIPS)} files under {SHARED_DATA / 'osv'}")
    parse, imp = results.get("parse"), results.get("import")
    if parse:
        print(
            f"baseline  read {parse['records']:,} records: {parse['seconds']:.1f} s, "
            f"peak RSS {parse['rss_mb']:.0f} MB"
        )
    if imp:
        ratio = f" ({imp['seconds'] / parse['seconds']:.1f}x the read)" if parse else ""
        print(
            f"import    {imp['new']:,} records into SQLite: {imp['seconds']:.1f} s{ratio}, "
            f"peak RSS {imp['rss_mb']:.0f} MB, database {imp['db_mb']:.0f} MB"
        )
    scan = results.get("scan")
    if scan:
        for label, s in scan["well_known"].items():
            print(
                f"scan      {label:<45} {s['findings']:>3} findings {s['status']:<7} "
                f"first {s['first_ms']:6.2f} ms, median {s['median_ms']:6.3f} ms "
                f"({s['median_ms'] / s['select_median_ms']:.1f}x one indexed SELECT)"
            )
        m = scan["mixed"]
        print(
            f"scan      {m['versions']:,} different packages, each scanned once: median "
            f"{m['median_ms']:.2f} ms, p95 {m['p95_ms']:.2f} ms, max {m['max_ms']:.0f} ms "
            f"({m['median_ms'] / m['select_median_ms']:.1f}x one indexed SELECT)"
        )
    rescan = results.get("rescan")
    if rescan:
        n = rescan["versions"]
        print(
            f"rescan    {n:,} stored versions named by the data: importing all zips queued "
            f"{rescan['rescans_queued']:,} re-scans ({rescan['import_with_rescans_seconds']:.1f} s)"
        )
        print(
            f"rescan    the re-scans alone: {rescan['scan_only_seconds']:.1f} s "
            f"({rescan['scan_only_seconds'] / rescan['select_seconds']:.0f}x {n:,} indexed "
            f"SELECTs, {rescan['select_seconds']:.2f} s)"
        )
        print(
            f"rescan    the worker ({rescan['jobs']} jobs: re-scans, then the policy decides "
            f"each version): {rescan['worker_seconds']:.1f} s; statuses {rescan['statuses']}; "
            f"peak RSS {rescan['rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
