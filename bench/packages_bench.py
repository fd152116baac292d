"""Benchmark of the registry service: detail, every shape of search, and submission over HTTP.

Loads 100,000 package versions (1,000,000 with ``--million``) into a fresh
SQLite file, starts a real ``foss serve`` (one API process) and, in the same
invocation, the constant-JSON Starlette baseline under the same server, then
drives both with ``wrk -c32`` on loopback (after a short unmeasured warm-up
run) and prints requests/s, p50 and p99 with the ratio to the baseline.

Every description reads "The <word> library for <four words>", so "library",
"for" and "the" are in every version: the common-word shapes match them all.
The packages are spread over the ecosystems as ``ECOSYSTEM_SHARES`` says (docker
2 %), so a filter by a rare ecosystem finds few of a common word's matches.

    python bench/packages_bench.py [--million] [--seconds 10] [--database FILE]
        [--postgres-url URL]

``--database FILE`` keeps the loaded file for later runs: an existing file is
used as it is (its schema upgraded first), a missing one is loaded and kept.
The kept word sets of a kept file are forgotten first, so every run sees the
first ask of each common word set: the submissions are timed once while the
first search of "library for" keeps its set (seconds at a million versions),
and each shape's first ask is timed before its warm-up.
``--postgres-url`` (else ``FOSS_BENCH_POSTGRES_URL``), a role that may create
databases: the same versions are copied once into the database
``foss_bench_<versions>_<ecosystems>`` there (kept for later runs) and the reads are timed
on PostgreSQL too, in the same invocation.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HEADER, Server, WrkResult, row, start_baseline, start_registry, wrk
from sqlalchemy import create_engine, text

from foss_registry import ecosystems, storage
from foss_registry.db import make_engine
from foss_registry.search_index import register_sqlite_functions

VERSIONS = ("1.0.0", "1.1.0", "2.0.0", "2.0.1")
SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "net",
    "py",
    "rest",
    "http",
    "json",
    "sql",
    "xml",
    "tor",
    "ven",
    "qua",
    "zen",
    "dat",
    "fra",
    "me",
    "work",
    "cli",
    "ent",
)
TOKEN = "foss_bench-token-not-secret"
# What share of the packages each ecosystem has: a rare ecosystem makes a search with its
# filter find few of the matches of a common word.
ECOSYSTEM_SHARES = (("pypi", 0.55), ("npm", 0.35), ("maven", 0.08), ("docker", 0.02))
_NAMES = {"pypi": "{}", "npm": "{}", "maven": "org.bench:{}", "docker": "bench/{}"}
# The ecosystems whose names the benchmark's detail reads and name searches ask for.
ASKED_FOR = ("pypi", "npm")


def words(rng: random.Random, count: int) -> str:
    return " ".join(
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))) for _ in range(count)
    )


def load(db: Path, total: int) -> list[str]:
    """Create the schema and bulk-load ``total`` versions (4 per package); return the names."""
    engine = make_engine(f"sqlite:///{db}")
    storage.upgrade(engine)
    engine.dispose()
    kinds = {e: ecosystems.get(e) for e, _share in ECOSYSTEM_SHARES}
    tokens = {e: {v: kind.sort_token(v) for v in VERSIONS} for e, kind in kinds.items()}
    canon = {e: {v: kind.canonical_version(v) for v in VERSIONS} for e, kind in kinds.items()}
    rng = random.Random(42)
    # The ecosystems from a generator of their own: names and descriptions stay as before.
    ecosystem_rng = random.Random(43)
    shares = [share for _e, share in ECOSYSTEM_SHARES]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.000000")
    conn = sqlite3.connect(db)
    # The search indexes' triggers call the registry's SQL functions.
    register_sqlite_functions(conn)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    # The search indexes take rows in another order than the versions: with
    # SQLite's small default cache, one transaction of a million versions wrote
    # its pages out again and again (hours on a busy machine).
    conn.execute("PRAGMA cache_size=-2000000")
    started = time.perf_counter()
    batch = []
    names = []
    for i in range(total // len(VERSIONS)):
        # Realistic, varied names: two made-up words and a number for uniqueness.
        plain = f"{words(rng, 1)}-{words(rng, 1)}-{i}"
        description = f"The {words(rng, 1)} library for {words(rng, 4)}"
        ecosystem = ecosystem_rng.choices(list(kinds), shares)[0]
        name = _NAMES[ecosystem].format(plain)
        normalized = kinds[ecosystem].normalize_name(name)
        if ecosystem in ASKED_FOR:
            names.append(name)
        for v in VERSIONS:
            status = rng.choice(("pending", "approved", "approved", "rejected"))
            batch.append(
                (
                    ecosystem,
                    name,
                    normalized,
                    v,
                    canon[ecosystem][v],
                    tokens[ecosystem][v],
                    f"pkg:{ecosystem}/{name}@{v}",
                    status,
                    "MIT",
                    description,
                    "bench",
                    now,
                    "[]",
                    "[]",
                )
            )
        if len(batch) >= 20_000:
            _insert(conn, batch)
            batch.clear()
    _insert(conn, batch)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    # What README tells operators to run after a bulk load.
    engine = make_engine(f"sqlite:///{db}")
    storage.optimize(engine)
    engine.dispose()
    print(f"loaded {total:,} versions in {time.perf_counter() - started:.1f} s", flush=True)
    return names


def stored_names(db: Path) -> list[str]:
    """The names a kept benchmark file was loaded with (its schema upgraded first)."""
    engine = make_engine(f"sqlite:///{db}")
    storage.upgrade(engine)
    engine.dispose()
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT name FROM package_versions WHERE name NOT LIKE 'new-%' "
            f"AND ecosystem IN ({', '.join('?' * len(ASKED_FOR))}) GROUP BY name ORDER BY min(id)",
            ASKED_FOR,
        ).fetchall()
    return [r[0] for r in rows]


def _submissions(db: Path) -> int:
    """How many versions the POST runs have stored in the file."""
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM package_versions WHERE submitted_by = 'bench' AND name LIKE 'new-%'"
            ).fetchone()[0]
        )


def _insert(conn: sqlite3.Connection, batch: list[tuple[object, ...]]) -> None:
    conn.executemany(
        "INSERT INTO package_versions (ecosystem, name, normalized_name, version, "
        "canonical_version, sort_token, purl, status, license, description, submitted_by, "
        "submitted_at, flags, policy_reasons) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        batch,
    )


LUA_NAMES = """
local names = {{}}
for line in io.lines("{names_file}") do names[#names + 1] = line end
"""
LUA_DETAIL = (
    LUA_NAMES
    + """
request = function()
  return wrk.format("GET", "/api/v1/packages/" .. names[math.random(1, #names)])
end
"""
)
LUA_SEARCH_NAME = (
    LUA_NAMES
    + """
request = function()
  return wrk.format("GET", "/api/v1/packages?limit=100&search=" .. names[math.random(1, #names)])
end
"""
)
# Words of two syllables: each in about 0.6 % of descriptions and inside 0.8 % of
# names, and at the start of 0.25 % of names (enough to fill a first page).
LUA_SEARCH_WORD = """
local words = {{"jsonrest", "httpzen", "sqlfra", "kalo"}}
request = function()
  return wrk.format("GET", "/api/v1/packages?limit=100&search=" .. words[math.random(1, #words)])
end
"""
# Words of three syllables: in about 0.03 % of descriptions and few names, so the
# page merges names containing the word with names described by it.
LUA_SEARCH_RARE_WORD = """
local words = {{"jsonrestzen", "zenmiqua", "sqlfradat", "httpworkcli"}}
request = function()
  return wrk.format("GET", "/api/v1/packages?limit=100&search=" .. words[math.random(1, #words)])
end
"""
# Fixed queries, one per shape of search (and a filter alone), with what each shows.
SHAPES = (
    ("search=library", "one common word (every version)"),
    ("search=library%20for", "two common words"),
    ("search=the%20library%20for", "three common words"),
    ("search=jsonrest%20httpzen", "two rarer words (28 versions have both)"),
    ("search=js", "two letters"),
    ("search=http", "a piece of many names"),
    ("search=jsonrest&status=approved", "a word and a status"),
    ("search=library&ecosystem=docker", "a common word, a rare ecosystem"),
    ("search=library%20for&ecosystem=maven", "two common words, a rare ecosystem"),
    ("search=http&ecosystem=maven&status=approved", "a piece of names, an ecosystem, a status"),
    ("search=js&ecosystem=docker", "two letters, a rare ecosystem"),
    ("status=approved", "a filter alone"),
    ("ecosystem=docker&status=rejected", "two filters, a rare ecosystem"),
)
LUA_POST = """
local counter = 0
-- wrk does not seed Lua's random numbers: unseeded, a second run of the same script (a
-- warm-up, then the measured run) would draw the same `tid`s and send names already stored.
math.randomseed(os.time())
-- `tid` is a global set per thread by setup(); a local here would hide it.
setup = function(thread)
  thread:set("tid", tostring(math.random(1, 1000000000)))
end
request = function()
  counter = counter + 1
  local body = '{{"name":"new-{run}-' .. tid .. '-' .. counter .. '","version":"1.0.0","ecosystem":"pypi"}}'
  return wrk.format("POST", "/api/v1/packages",
    {{["Content-Type"] = "application/json", ["X-API-Key"] = "{token}"}}, body)
end
"""


_COPIED = (
    "ecosystem, name, normalized_name, version, canonical_version, sort_token, purl, status, "
    "license, description, submitted_by, submitted_at, flags, policy_reasons"
)


# The last revision before PostgreSQL kept its search counts by trigger.
_BEFORE_SEARCH_COUNTS = "0018"


def loaded_versions(db: Path) -> tuple[int, int]:
    """How many versions the file was loaded with (not the runs' ``new-…``), in how many ecosystems."""
    with sqlite3.connect(db) as conn:
        loaded, kinds = conn.execute(
            "SELECT count(*), count(DISTINCT ecosystem) FROM package_versions "
            "WHERE name NOT LIKE 'new-%'"
        ).fetchone()
    return int(loaded), int(kinds)


def postgres_copy(admin_url: str, db: Path) -> str:
    """The URL of a PostgreSQL database holding the SQLite file's versions (copied once).

    The loaded versions, not the benchmark's own submissions (``new-…``): the
    database is named by their number, so that later runs on a kept file use it
    as it is.
    """
    loaded, kinds = loaded_versions(db)
    name = f"foss_bench_{loaded}_{kinds}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    if storage.current_revision(engine) is None:
        # The versions go in before migration 0019, which counts them for search in
        # one pass: its trigger would update the same count rows once per version
        # inside the one transaction of the copy, each update slower than the last.
        storage.upgrade(engine, _BEFORE_SEARCH_COUNTS)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM package_versions")).scalar_one()
    if not stored:
        started = time.perf_counter()
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            with (
                sqlite3.connect(db) as source,
                cursor.copy(f"COPY package_versions ({_COPIED}) FROM STDIN") as copy,  # type: ignore[attr-defined]
            ):
                for values in source.execute(
                    f"SELECT {_COPIED} FROM package_versions WHERE name NOT LIKE 'new-%' ORDER BY id"
                ):
                    copy.write_row(values)
            raw.commit()
        finally:
            raw.close()
        print(f"copied into PostgreSQL in {time.perf_counter() - started:.1f} s", flush=True)
    storage.upgrade(engine)
    if not stored:
        # Vacuumed as well as analysed: PostgreSQL's autovacuum would otherwise
        # vacuum the million new rows in the middle of the timed runs.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    engine.dispose()
    return url


def forget_kept_sets(db: Path) -> None:
    """Drop the kept word sets and name terms of a kept file: the next search keeps each anew.

    (A file from before migration 0026 has no kept name terms yet, nor before 0027 their names;
    nor before 0028 the names of word sets.)
    """
    with sqlite3.connect(db) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        for table in (
            "package_word_set_totals",
            "package_word_set_names",
            "package_word_sets",
            "package_name_term_totals",
            "package_name_term_names",
            "package_name_terms",
        ):
            if table in tables:
                conn.execute(f"DELETE FROM {table}")


def first_ask(url: str) -> float:
    """Seconds one request takes (a search of a new common word set waits for its count)."""
    started = time.perf_counter()
    response = httpx.get(url, timeout=120)
    assert response.status_code == 200, response.text
    return time.perf_counter() - started


def post_while_keeping(registry: Server, script: Path, seconds: int) -> tuple[WrkResult, float]:
    """Submissions timed while the first search of "library for" keeps its word set."""
    found: list[WrkResult] = []
    posting = threading.Thread(
        target=lambda: found.append(wrk(registry.url, seconds=seconds, script=script))
    )
    posting.start()
    time.sleep(1)
    took = first_ask(f"{registry.url}/api/v1/packages?limit=100&search=library%20for")
    posting.join()
    return found[0], took


def time_reads(
    registry: Server, scripts: dict[str, Path], seconds: int
) -> tuple[dict[str, WrkResult], dict[str, float]]:
    """wrk runs of the detail read and every shape of search, after a warm-up run of each.

    Each shape is first asked once alone (timed: the first ask of a new word set
    keeps it), so that its runs time a server that has answered it before.
    """
    results = {}
    firsts = {}
    for label in ("detail", "search_name", "search_word", "search_rare_word"):
        wrk(registry.url, seconds=2, script=scripts[label])
        results[label] = wrk(registry.url, seconds=seconds, script=scripts[label])
    for query, _shown in SHAPES:
        url = f"{registry.url}/api/v1/packages?limit=100&{query}"
        firsts[query] = first_ask(url)
        wrk(url, seconds=2)
        results[query] = wrk(url, seconds=seconds)
    return results, firsts


def print_reads(results: dict[str, WrkResult], baseline: WrkResult) -> None:
    print(row("GET /packages/{name}", results["detail"], baseline))
    print(row("GET /packages?search=<package name>&limit=100", results["search_name"], baseline))
    print(
        row("GET /packages?search=<description word>&limit=100", results["search_word"], baseline)
    )
    print(
        row(
            "GET /packages?search=<rarer description word>&limit=100",
            results["search_rare_word"],
            baseline,
        )
    )
    for query, _shown in SHAPES:
        print(row(f"GET /packages?{query.replace('%20', ' ')}&limit=100", results[query], baseline))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--million", action="store_true", help="load 1,000,000 versions")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database", type=Path, help="keep the loaded SQLite file here")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("FOSS_BENCH_POSTGRES_URL"),
        help="time the reads on PostgreSQL too (a role that may create databases)",
    )
    args = parser.parse_args()
    total = 1_000_000 if args.million else 100_000
    with tempfile.TemporaryDirectory(prefix="foss-bench-") as tmp:
        work = Path(tmp)
        db = args.database.resolve() if args.database else work / "bench.db"
        names = stored_names(db) if db.exists() else load(db, total)
        forget_kept_sets(db)
        total, _kinds = loaded_versions(db)
        names_file = work / "names.txt"
        names_file.write_text("\n".join(random.Random(7).sample(names, 5000)) + "\n")
        env = {
            "FOSS_DATABASE_URL": f"sqlite:///{db}",
            "FOSS_API_TOKENS": f"bench:submitter:{TOKEN}",
        }
        registry = start_registry(env, work)
        try:
            sample = httpx.get(f"{registry.url}/api/v1/packages/{names[1]}")
            assert sample.status_code == 200, sample.text
            baseline_server = start_baseline(len(sample.content), work)
            try:
                wrk(baseline_server.url + "/", seconds=2)
                baseline = wrk(baseline_server.url + "/", seconds=args.seconds)
            finally:
                baseline_server.stop()
            # Names of this run's submissions: unique in a kept file too.
            run = secrets.token_hex(4)
            scripts = {}
            for label, lua in (
                ("detail", LUA_DETAIL),
                ("search_name", LUA_SEARCH_NAME),
                ("search_word", LUA_SEARCH_WORD),
                ("search_rare_word", LUA_SEARCH_RARE_WORD),
                ("post", LUA_POST),
            ):
                path = work / f"{label}.lua"
                path.write_text(lua.format(names_file=names_file, token=TOKEN, run=run))
                scripts[label] = path
            # Steady state, as a server that has been up a while: a short unmeasured
            # run first fills the read cache and the database pages.
            keeping = post_while_keeping(registry, scripts["post"], args.seconds)
            reads, firsts = time_reads(registry, scripts, args.seconds)
            before = _submissions(db)
            post = wrk(registry.url, seconds=args.seconds, script=scripts["post"])
        finally:
            registry.stop()
        created = _submissions(db) - before
        postgres_reads = None
        if args.postgres_url:
            url = postgres_copy(args.postgres_url, db)
            registry = start_registry({"FOSS_DATABASE_URL": url}, work)
            try:
                postgres_reads, _firsts = time_reads(registry, scripts, args.seconds)
            finally:
                registry.stop()
    print(f"\n{total:,} versions, 1 API process, wrk -t2 -c32 -d{args.seconds}s on loopback\n")
    print(HEADER)
    print(row("baseline: Starlette constant JSON", baseline))
    print_reads(reads, baseline)
    print(row("POST /packages (durable, SQLite)", post, baseline))
    print(row("POST /packages while a word set is kept", keeping[0], baseline))
    if postgres_reads:
        print("\nPostgreSQL, the same versions and runs:\n")
        print(HEADER)
        print_reads(postgres_reads, baseline)
    print(f"\nPOST: {created:,} submissions stored ({created / args.seconds:,.0f}/s durable)")
    print(f"first ask of search=library for (keeping its set, POSTs running): {keeping[1]:.2f} s")
    for query, took in firsts.items():
        print(f"first ask of {query.replace('%20', ' ')}: {took * 1000:,.1f} ms")


if __name__ == "__main__":
    main()
