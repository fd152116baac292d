"""Benchmark of the web pages: time to answer each page, and the catalogue against the JSON list.

Loads 100,000 package versions (1,000,000 with ``--million``; the loader of
``packages_bench.py``) plus one package with 1,000 versions, starts a real
``foss serve`` (one API process), signs a reviewer in, then:

- asks each page one request at a time (keep-alive, after a warm-up) and prints
  the median time of the whole answer as the client sees it, against the JSON
  detail read measured the same way in the same run (the baseline), and the
  median and 99th percentile of the time the server reports in the page's
  ``Server-Timing`` header, from the request's arrival to the rendered page
  (the target is 10 ms);
- drives the catalogue page and the JSON list for the same query with
  ``wrk -c32`` and prints the page's requests/s as a ratio of the JSON list's
  (the target is at least 0.3), and the same ratio of requests per CPU-second
  of the server's processes, which a machine busy with other work distorts
  less.

    python bench/pages_bench.py [--million] [--seconds 10] [--database FILE]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HEADER, row, start_registry, wrk
from bench.packages_bench import load, stored_names

from foss_registry import ecosystems
from foss_registry.search_index import register_sqlite_functions

TOKEN = "foss_bench-reviewer-not-secret"
BIG = "big-package"
REQUESTS = 300


def add_big_package(db: Path) -> None:
    """One package with 1,000 versions (the package page's worst case)."""
    pypi = ecosystems.get("pypi")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.000000")
    rows = []
    for i in range(1000):
        version = f"{i // 100}.{(i // 10) % 10}.{i % 10}"
        rows.append(
            (
                "pypi", BIG, BIG, version, pypi.canonical_version(version),
                pypi.sort_token(version), f"pkg:pypi/{BIG}@{version}",
                "approved" if i % 3 else "pending", "MIT",
                "A package released very often", "bench", now, "[]", "[]",
            )
        )  # fmt: skip
    conn = sqlite3.connect(db)
    register_sqlite_functions(conn)
    if conn.execute("SELECT 1 FROM package_versions WHERE name = ?", (BIG,)).fetchone():
        conn.close()
        return
    conn.executemany(
        "INSERT INTO package_versions (ecosystem, name, normalized_name, version, "
        "canonical_version, sort_token, purl, status, license, description, submitted_by, "
        "submitted_at, flags, policy_reasons) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.commit()
    conn.close()


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds used so far by every process of a process group (the server and its workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measured(url: str, pgid: int, seconds: int) -> tuple[Any, float]:
    """wrk's result and the requests answered per CPU-second of the server (load-independent)."""
    before = group_cpu_seconds(pgid)
    result = wrk(url, seconds=seconds)
    used = group_cpu_seconds(pgid) - before
    return result, result.requests / used if used else float("nan")


def timed(client: httpx.Client, path: str) -> tuple[float, float, float]:
    """Median client-side ms, median and p99 server-side ms (``Server-Timing``) of REQUESTS
    sequential requests, after 20 unmeasured ones."""
    for _ in range(20):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    client_ms, server_ms = [], []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path)
        client_ms.append((time.perf_counter() - started) * 1000)
        timing = response.headers.get("server-timing", "")
        if "dur=" in timing:
            server_ms.append(float(timing.split("dur=", 1)[1]))
    server_ms.sort()
    server_p50 = statistics.median(server_ms) if server_ms else float("nan")
    server_p99 = server_ms[int(len(server_ms) * 0.99) - 1] if server_ms else float("nan")
    return statistics.median(client_ms), server_p50, server_p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--million", action="store_true", help="load 1,000,000 versions")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database", type=Path, help="keep the loaded SQLite file here")
    args = parser.parse_args()
    total = 1_000_000 if args.million else 100_000
    with tempfile.TemporaryDirectory(prefix="foss-pages-bench-") as tmp:
        work = Path(tmp)
        db = args.database.resolve() if args.database else work / "bench.db"
        names = stored_names(db) if db.exists() else load(db, total)
        add_big_package(db)
        env = {"FOSS_DATABASE_URL": f"sqlite:///{db}", "FOSS_API_TOKENS": f"bench:reviewer:{TOKEN}"}
        registry = start_registry(env, work)
        try:
            client = httpx.Client(base_url=registry.url, timeout=60)
            login = client.get("/login").text
            csrf = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            signed_in = client.post("/login", data={"token": TOKEN, "csrf_token": csrf})
            assert signed_in.status_code == 303, signed_in.text
            started = time.perf_counter()
            client.get("/")
            first_dashboard = (time.perf_counter() - started) * 1000
            name = names[len(names) // 2]
            pages = [
                ("JSON detail (baseline)", f"/api/v1/packages/{name}"),
                ("dashboard", "/"),
                ("catalogue", "/packages"),
                ("catalogue, word search", "/packages?search=jsonrest"),
                ("catalogue, name search", f"/packages?search={name}"),
                (
                    "catalogue, filters, page 100",
                    "/packages?ecosystem=pypi&status=pending&page=100",
                ),
                (
                    "JSON list, same filters and offset",
                    "/api/v1/packages?ecosystem=pypi&status=pending&limit=50&offset=4950",
                ),
                ("package (4 versions, reviewer)", f"/packages/pypi/{name}"),
                ("package (1,000 versions)", f"/packages/pypi/{BIG}"),
                ("review queue", "/reviews"),
                ("review queue, page 200", "/reviews?ecosystem=pypi&page=200"),
                ("submission form", "/submit"),
            ]
            versions = len(names) * 4 + 1000
            print(f"\npages at {versions:,} versions, {REQUESTS} sequential requests each")
            print(f"first dashboard of the process (figures computed): {first_dashboard:.0f} ms")
            print(
                f"{'page':<40} {'client p50':>10} {'vs base':>8} "
                f"{'server p50':>10} {'server p99':>10}  (ms; server: Server-Timing)"
            )
            base_p50 = None
            for label, path in pages:
                p50, server_p50, server_p99 = timed(client, path)
                base_p50 = base_p50 or p50
                print(
                    f"{label:<40} {p50:>10.2f} {p50 / base_p50:>7.1f}x "
                    f"{server_p50:>10.2f} {server_p99:>10.2f}"
                )

            print("\ncatalogue page against the JSON list, same query (wrk -c32)")
            print(HEADER + f" {'req/CPU-s':>10} {'vs base':>8}")
            pgid = registry.process.pid
            for query in ("search=jsonrest", "search=kalo", "ecosystem=pypi&status=approved"):
                api_url = f"{registry.url}/api/v1/packages?limit=50&{query}"
                page_url = f"{registry.url}/packages?{query}"
                wrk(page_url, seconds=2)
                api, api_cpu = measured(api_url, pgid, args.seconds)
                page, page_cpu = measured(page_url, pgid, args.seconds)
                print(row(f"JSON list ?{query}", api) + f" {api_cpu:>10,.0f}")
                print(
                    row(f"catalogue page ?{query}", page, api)
                    + f" {page_cpu:>10,.0f} {page_cpu / api_cpu:>8.1%}"
                )
        finally:
            registry.stop()


if __name__ == "__main__":
    main()
