"""Benchmark of the CI gate: ``POST /api/v1/check`` and ``foss check`` end to end.

Loads 100,000 npm package versions (25,000 packages, 4 versions each, mixed
statuses) into a fresh SQLite file, starts a real ``foss serve`` (one API
process, auth and rate limits off, no job worker) on a free loopback port, and
in the same run measures:

* ``POST /check`` with 1,000 dependencies (median of N requests over loopback,
  so the figure includes HTTP and JSON both ways), against a baseline of
  ``GET /api/v1/packages?limit=1`` on the same server, with the ratio;
* the same lookup in-process (``checks.service.check`` on one connection),
  the server-side work alone;
* ``foss check`` of a generated 1,000-dependency ``package-lock.json``, wall
  time of the whole command (process start, parsing, the request, the report),
  against ``foss --help`` as the process-start baseline.

    python bench/check_bench.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import start_registry

from foss_registry import ecosystems, storage
from foss_registry.checks import service as checks
from foss_registry.db import make_engine, read_connection, utcnow
from foss_registry.packages.models import package_versions
from foss_registry.policy.rules import default_policy

VERSIONS = ("1.0.0", "1.1.0", "2.0.0", "2.0.1")
PACKAGES = 25_000
DEPENDENCIES = 1_000
LICENSES = ("MIT", "ISC", "Apache-2.0", "BSD-3-Clause", "MIT OR Apache-2.0", None)


def load(db: Path) -> list[str]:
    """Create the schema and bulk-load 100,000 npm versions; return the package names."""
    engine = make_engine(f"sqlite:///{db}")
    storage.upgrade(engine)
    npm = ecosystems.get("npm")
    tokens = {v: npm.sort_token(v) for v in VERSIONS}
    rng = random.Random(42)
    now = utcnow()
    names = [
        f"@scope{i % 50}/pkg-{i}" if i % 5 == 0 else f"bench-package-{i}" for i in range(PACKAGES)
    ]
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for name in names:
        for v in VERSIONS:
            rows.append(
                {
                    "ecosystem": "npm",
                    "name": name,
                    "normalized_name": name,
                    "version": v,
                    "canonical_version": v,
                    "sort_token": tokens[v],
                    "purl": npm.purl(name, v),
                    "status": rng.choice(("pending", "approved", "approved", "rejected")),
                    "license": rng.choice(LICENSES),
                    "submitted_by": "bench",
                    "submitted_at": now,
                    "flags": [],
                }
            )
    with engine.begin() as conn:
        for start in range(0, len(rows), 20_000):
            conn.execute(package_versions.insert(), rows[start : start + 20_000])
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(f"loaded {len(rows):,} versions in {time.perf_counter() - started:.1f} s", flush=True)
    return names


def lockfile(path: Path, names: list[str]) -> list[dict[str, Any]]:
    """Write a 1,000-dependency package-lock.json (v3); return the /check request items."""
    rng = random.Random(7)
    chosen = rng.sample(names, DEPENDENCIES - 50) + [f"not-in-registry-{i}" for i in range(50)]
    packages: dict[str, Any] = {"": {"name": "bench-app", "version": "1.0.0"}}
    items = []
    for name in chosen:
        version = rng.choice((*VERSIONS, "1.5.0"))
        packages[f"node_modules/{name}"] = {
            "version": version,
            "resolved": f"https://npm.example.test/{name}/-/x-{version}.tgz",
            "integrity": "sha512-AAAA",
        }
        items.append({"name": name, "version": version, "ecosystem": "npm"})
    path.write_text(
        json.dumps({"name": "bench-app", "lockfileVersion": 3, "packages": packages}, indent=2)
    )
    return items


def timed(fn: Any, runs: int) -> list[float]:
    """Run ``fn`` ``runs`` times after one warm-up; return the durations in ms."""
    fn()
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def line(label: str, samples: list[float], baseline: list[float] | None = None) -> str:
    """One result row: median, p90 and the ratio of medians to the baseline."""
    median = statistics.median(samples)
    p90 = sorted(samples)[int(len(samples) * 0.9) - 1] if len(samples) >= 10 else max(samples)
    ratio = f"{median / statistics.median(baseline):8.1f}x" if baseline else f"{'-':>9}"
    return f"{label:<52} {median:>9.1f} {p90:>9.1f} {ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="requests per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="foss-check-bench-") as tmp:
        work = Path(tmp)
        db = work / "bench.db"
        names = load(db)
        lock = work / "package-lock.json"
        items = lockfile(lock, names)

        engine = make_engine(f"sqlite:///{db}")
        policy = default_policy()
        check_items = [checks.CheckItem(i["name"], i["version"], i["ecosystem"]) for i in items]

        def in_process() -> None:
            with read_connection(engine) as conn:
                checks.check(conn, check_items, policy)

        service = timed(in_process, args.runs)
        engine.dispose()

        env = {"FOSS_DATABASE_URL": f"sqlite:///{db}", "FOSS_AUTH_ENABLED": "false"}
        server = start_registry(env, work)
        try:
            api = f"{server.url}/api/v1"
            with httpx.Client(timeout=60) as http:
                answer = http.post(f"{api}/check", json={"dependencies": items})
                assert answer.status_code == 200, answer.text
                summary = answer.json()["summary"]
                baseline = timed(
                    lambda: http.get(f"{api}/packages", params={"limit": 1}), args.runs
                )
                batch = timed(
                    lambda: http.post(f"{api}/check", json={"dependencies": items}), args.runs
                )
            foss = [sys.executable, "-m", "foss_registry.cli.main"]
            client_env = {"FOSS_API_URL": api, "PATH": "/usr/bin:/bin"}
            startup = timed(
                lambda: subprocess.run([*foss, "--help"], capture_output=True, check=True),
                max(5, args.runs // 4),
            )

            def gate() -> None:
                done = subprocess.run(
                    [*foss, "check", str(lock), "--format", "json", "--quiet"],
                    capture_output=True,
                    env=client_env,
                )
                assert done.returncode == 1, done.stderr  # unknown and pending ones fail
                assert len(json.loads(done.stdout)["dependencies"]) == DEPENDENCIES

            end_to_end = timed(gate, max(5, args.runs // 4))
        finally:
            server.stop()

    print(f"1,000 dependencies answered: {summary}")
    print(f"{'measurement':<52} {'median ms':>9} {'p90 ms':>9} {'vs base':>9}")
    print(line("GET /packages?limit=1 (baseline)", baseline))
    print(line("POST /check, 1,000 dependencies (over HTTP)", batch, baseline))
    print(line("checks.service.check, 1,000 (in-process)", service))
    print(line("foss --help (process start, baseline)", startup))
    print(line("foss check package-lock.json, 1,000 (end to end)", end_to_end, startup))


if __name__ == "__main__":
    main()
