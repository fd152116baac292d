"""The SQLite fast reads answer exactly what the documented routes answer.

They serve plain detail and list/search reads below the HTTP edge; every other
form of the request goes on to the framework's handler. These tests prove both
halves: what they answer is byte for byte the handler's answer, and what they
should not judge reaches the handler.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import Engine

from foss_registry import search_index
from foss_registry.api.fast_reads import FastReads, SQLiteThreadReaders
from foss_registry.api.postgres_reads import PostgresRecords
from foss_registry.api.record_cache import RecordCache
from foss_registry.config import Settings
from foss_registry.db import make_engine
from foss_registry.packages import word_sets
from tests.conftest import make_client
from tests.functional.conftest import key, submit

PACKAGES = (
    {"name": "Flask", "version": "2.3.0", "ecosystem": "pypi", "license": "BSD-3-Clause"},
    {"name": "flask", "version": "2.10.0", "ecosystem": "pypi"},
    {"name": "@babel/core", "version": "7.24.0", "ecosystem": "npm", "license": "MIT"},
    {"name": "org.apache.logging.log4j:log4j-core", "version": "2.14.1", "ecosystem": "maven"},
    {"name": "library/nginx", "version": "1.25.3", "ecosystem": "docker"},
)
DETAIL_URLS = (
    "/api/v1/packages/flask",
    "/api/v1/packages/FLASK?version=2.3.0",
    "/api/v1/packages/Flask?ecosystem=PyPI&version=2.3",
    "/api/v1/packages/@babel/core",
    "/api/v1/packages/org.apache.logging.log4j:log4j-core?ecosystem=maven",
    "/api/v1/packages/nginx",
    "/api/v1/packages/docker.io/library/nginx?version=1.25.3",
)
LIST_URLS = (
    "/api/v1/packages",
    "/api/v1/packages?search=flask",
    "/api/v1/packages?search=FLA&limit=1&offset=1",
    "/api/v1/packages?search=core&ecosystem=npm",
    "/api/v1/packages?search=lo&status=pending",
    "/api/v1/packages?status=approved&limit=1000",
    "/api/v1/packages?search=",
    "/api/v1/packages?search=nothing-like-this&offset=0",
)
# Headers that differ between any two responses.
PER_REQUEST = {"x-request-id", "date"}


@pytest.fixture
def stocked(client: Any, tokens: dict[str, str]) -> Any:
    for package in PACKAGES:
        assert submit(client, tokens["submitter"], **package).status_code == 201
    decision = {"ecosystem": "pypi", "name": "flask", "version": "2.3.0", "decision": "approve"}
    assert client.post("/api/v1/reviews", json=decision, headers=key(tokens["reviewer"])).is_success
    return client


def _stable_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in PER_REQUEST}


@pytest.mark.parametrize("url", DETAIL_URLS + LIST_URLS)
def test_fast_answers_equal_the_routes_answers(stocked: Any, url: str) -> None:
    fast = stocked.get(url)
    # An extra parameter the route ignores sends the request to the framework's handler.
    separator = "&" if "?" in url else "?"
    routed = stocked.get(f"{url}{separator}trace=1")
    assert fast.status_code == routed.status_code == 200, fast.text
    assert fast.content == routed.content
    assert _stable_headers(fast) == _stable_headers(routed)


def _fast(downstream: Any, database: Path, *, cors: bool = False) -> FastReads:
    return FastReads(
        downstream,
        RecordCache(str(database)),
        SQLiteThreadReaders(str(database)),
        2,
        cors=cors,
    )


class _Downstream:
    """Stands in for the framework behind the fast path and records what reached it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.paths.append(scope["path"] + "?" + scope["query_string"].decode())
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _get(
    app: Any,
    path: str,
    query: str = "",
    method: str = "GET",
    closing: PostgresRecords | None = None,
    **headers: str,
) -> int:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def answer() -> None:
        try:
            await app(scope, receive, send)
        finally:
            if closing is not None:
                await closing.aclose()

    asyncio.run(answer())
    return int(sent[0]["status"])


@pytest.mark.parametrize("url", LIST_URLS)
def test_lists_and_searches_are_answered_on_the_fast_path(stocked: Any, url: str) -> None:
    """On PostgreSQL from the event loop (asynchronous connections), on SQLite on the pool."""
    ctx = stocked.registry.state.ctx
    downstream = _Downstream()
    records = None
    if ctx.postgres_records is not None:
        records = PostgresRecords.for_url(ctx.engine.url, pool_size=1)
        fast = FastReads(downstream, records, None, 2, list_reads=records)
    else:
        fast = _fast(downstream, Path(ctx.engine.url.database))
    path, _, query = url.partition("?")
    assert _get(fast, path, query, closing=records) == 200
    assert downstream.paths == []


@pytest.mark.parametrize(
    ("path", "query", "method", "headers"),
    [
        ("/api/v1/packages/flask", "", "GET", {}),
        ("/api/v1/packages/@babel/core", "ecosystem=npm", "GET", {}),
        ("/api/v1/packages/flask", "version=2.3.0&ecosystem=pypi", "GET", {}),
        ("/api/v1/packages", "", "GET", {}),
        ("/api/v1/packages", "search=babel&limit=5&offset=2&ecosystem=npm", "GET", {}),
        ("/api/v1/packages", "status=approved&limit=1000", "GET", {}),
    ],
)
def test_plain_reads_are_answered_on_the_fast_path(
    sqlite_stocked: Path, path: str, query: str, method: str, headers: dict[str, str]
) -> None:
    downstream = _Downstream()
    assert _get(_fast(downstream, sqlite_stocked), path, query, method, **headers) == 200
    assert downstream.paths == []


@pytest.mark.parametrize(
    ("path", "query", "method", "headers"),
    [
        ("/api/v1/packages/flask", "", "HEAD", {}),
        ("/api/v1/packages/flask/", "", "GET", {}),
        ("/api/v1/packages//flask", "", "GET", {}),
        ("/api/v1/packages/", "", "GET", {}),
        ("/api/v1/packages/flask", "ecosystem=pypi&ecosystem=npm", "GET", {}),
        ("/api/v1/packages/flask", "trace=1", "GET", {}),
        ("/api/v1/packages/flask", "version=" + "9" * 129, "GET", {}),
        ("/api/v1/packages/flask", "version", "GET", {}),
        ("/api/v1/packages/flask", "version=", "GET", {}),
        ("/api/v1/packages/flask", "version=0.1", "GET", {}),
        ("/api/v1/packages/no-such-package", "", "GET", {}),
        ("/api/v1/packages/flask", "ecosystem=cargo", "GET", {}),
        ("/api/v1/packages/flask", "", "GET", {"origin": "https://app.example.org"}),
        ("/api/v1/packages", "", "POST", {}),
        ("/api/v1/packages", "", "GET", {"origin": "https://app.example.org"}),
        ("/api/v1/packages", "limit=0", "GET", {}),
        ("/api/v1/packages", "limit=1001", "GET", {}),
        ("/api/v1/packages", "limit=-1", "GET", {}),
        ("/api/v1/packages", "limit=ten", "GET", {}),
        ("/api/v1/packages", "offset=-5", "GET", {}),
        ("/api/v1/packages", "status=bogus", "GET", {}),
        ("/api/v1/packages", "status=", "GET", {}),
        ("/api/v1/packages", "ecosystem=cargo", "GET", {}),
        ("/api/v1/packages", "search=a%00b", "GET", {}),
        ("/api/v1/packages", "search=" + "x" * 256, "GET", {}),
        ("/api/v1/packages", "search=a&search=b", "GET", {}),
        ("/api/v1/packages", "q=flask", "GET", {}),
        ("/api/v1/packages/", "search=flask", "GET", {}),
    ],
)
def test_every_other_request_reaches_the_route(
    sqlite_stocked: Path, path: str, query: str, method: str, headers: dict[str, str]
) -> None:
    downstream = _Downstream()
    fast = _fast(downstream, sqlite_stocked, cors=True)
    assert _get(fast, path, query, method, **headers) == 299
    assert downstream.paths == [f"{path}?{query}"]


@pytest.fixture
def sqlite_stocked(tmp_path: Path, sqlite_template: Path) -> Path:
    """A SQLite database holding the packages above, on the file the fast path reads."""
    path = tmp_path / "fast.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(
        database_url=f"sqlite:///{path}", auth_enabled=False, rate_limits_enabled=False
    )
    engine: Engine = make_engine(settings.database_url)
    try:
        with make_client(settings, engine) as client:
            for package in PACKAGES:
                response = client.post("/api/v1/packages", json=package)
                assert response.status_code == 201, response.text
    finally:
        engine.dispose()
    return path


def test_cross_origin_reads_keep_their_cors_headers(stocked: Any, settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    allowed = settings.model_copy(update={"cors_origins": "https://app.example.org"})
    try:
        with make_client(allowed, engine) as client:
            response = client.get(
                "/api/v1/packages/flask", headers={"Origin": "https://app.example.org"}
            )
    finally:
        engine.dispose()
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example.org"


def test_a_submissions_answer_is_the_record_every_read_gives(
    client: Any, tokens: dict[str, str], engine: Engine
) -> None:
    from foss_registry.db import read_connection
    from foss_registry.packages import service as packages

    for package in PACKAGES:
        created = submit(client, tokens["submitter"], **package)
        assert created.status_code == 201
        location = created.headers["location"]
        # The record built from the inserted row, the fast path's, the route's and the service's.
        fast = client.get(location)
        routed = client.get(f"{location}&trace=1")
        assert created.content == fast.content == routed.content
        with read_connection(engine) as conn:
            record = packages.get_record(
                conn, package["name"], ecosystem=package["ecosystem"], version=package["version"]
            )
        assert created.json() == msgspec.to_builtins(record)


def test_a_batch_submissions_records_are_the_bytes_every_read_gives(
    client: Any, tokens: dict[str, str]
) -> None:
    """POST /submissions answers each stored version with the record GET gives, field for field
    and in the same order (one record shape for every path)."""
    # One version per package: a record shows its package's versions as they were then.
    batch = [p for p in PACKAGES if p["name"] != "Flask"]
    answer = client.post(
        "/api/v1/submissions", json={"packages": batch}, headers=key(tokens["submitter"])
    )
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [201] * len(batch)
    for result in results:
        fast = client.get(result["location"])
        routed = client.get(f"{result['location']}&trace=1")
        assert msgspec.json.encode(result["package"]) == fast.content == routed.content


def test_fast_answers_equal_the_routes_answers_with_upstream_facts(
    stocked: Any, engine: Engine
) -> None:
    """The record read in one statement (PostgreSQL) shows the reviews and upstream facts."""
    from sqlalchemy import insert, select

    from foss_registry.db import utcnow, write_transaction
    from foss_registry.enrichment.models import upstream_records
    from foss_registry.packages.models import package_versions
    from foss_registry.packages.records import EMPTY_UPSTREAM_FACTS

    facts = EMPTY_UPSTREAM_FACTS | {
        "license": "BSD-3-Clause",
        "license_raw": "BSD License",
        "dependencies": [{"name": "werkzeug", "requirement": ">=2.3.0", "scope": "runtime"}],
        "license_from_upstream": False,
    }
    signals = [{"code": "no_repository", "level": "info", "message": "No repository is named."}]
    with write_transaction(engine) as conn:
        version_id = conn.execute(
            select(package_versions.c.id).where(package_versions.c.version == "2.3.0")
        ).scalar_one()
        conn.execute(
            insert(upstream_records).values(
                version_id=version_id,
                status="found",
                source="http://upstream.invalid/pypi/flask/2.3.0/json",
                fetched_at=utcnow(),
                facts=facts,
                signals=signals,
            )
        )
    url = "/api/v1/packages/flask?version=2.3.0"
    fast = stocked.get(url)
    routed = stocked.get(url + "&trace=1")
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    record = fast.json()
    assert record["upstream"]["status"] == "found"
    assert record["upstream"]["dependencies"][0]["name"] == "werkzeug"
    assert record["signals"] == signals
    assert [review["decision"] for review in record["reviews"]] == ["approve"]


async def _ask(app: Any, query: str) -> dict[str, Any]:
    """The JSON answer of the fast path to a list or search."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/packages",
        "query_string": query.encode(),
        "headers": [],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    answer: dict[str, Any] = json.loads(sent[1]["body"])
    return answer


def test_a_search_waiting_for_its_word_set_to_be_kept_holds_no_thread(
    sqlite_stocked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "KEPT_SETS_FROM", 1)
    described = sqlite3.connect(sqlite_stocked, isolation_level=None)
    search_index.register_sqlite_functions(described)
    described.execute(
        "UPDATE package_versions SET description = 'A web framework for Python' "
        "WHERE normalized_name = 'flask'"
    )
    described.close()
    # One thread for searches; another writer holds the write lock, so the
    # count that keeps the set "framework for" cannot begin until it lets go.
    fast = FastReads(
        _Downstream(),
        RecordCache(str(sqlite_stocked)),
        SQLiteThreadReaders(str(sqlite_stocked)),
        1,
    )
    # Set once the first search has asked for its set to be kept (it then waits
    # for the count, off the thread).
    asked = threading.Event()
    keep = word_sets.keep

    def keep_and_tell(*args: Any) -> Any:
        future = keep(*args)
        asked.set()
        return future

    monkeypatch.setattr(word_sets, "keep", keep_and_tell)
    locker = sqlite3.connect(sqlite_stocked, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")

    async def scenario() -> None:
        waiting = asyncio.create_task(_ask(fast, "search=framework+for"))
        while not asked.is_set():
            await asyncio.sleep(0.01)
        # The only thread answers other searches while the first waits for its count.
        other = await _ask(fast, "search=babel")
        assert other["total"] == 1
        assert not waiting.done()
        locker.execute("COMMIT")
        first = await waiting
        assert first["total"] == 2
        assert [p["version"] for p in first["packages"]] == ["2.10.0", "2.3.0"]

    try:
        asyncio.run(scenario())
    finally:
        locker.close()
    kept = sqlite3.connect(sqlite_stocked)
    try:
        rows = kept.execute("SELECT words, counting FROM package_word_sets").fetchall()
    finally:
        kept.close()
    assert rows == [("for framework", None)]


# The thread pool serves SQLite's lists; PostgreSQL's are read on asynchronous connections.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_list_threads_and_their_connections_end_with_the_server(
    settings: Settings, engine: Engine
) -> None:
    """A server that stops leaves no search thread or read connection behind (SQLite)."""
    with make_client(settings, engine) as client:
        assert client.get("/api/v1/packages?search=flask").status_code == 200
        fast = client.registry.state.fast_reads
        assert any(t.name.startswith("foss-lists") for t in threading.enumerate())
    assert not any(t.name.startswith("foss-lists") for t in threading.enumerate())
    with pytest.raises(RuntimeError):  # the pool takes no more work
        fast._pool.submit(print)
    assert fast.thread_readers._all == []
