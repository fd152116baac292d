"""The two hottest public reads, answered below the framework.

CI pipelines ask ``GET /api/v1/packages/{name}`` and ``GET /api/v1/packages?search=``
far more than anything else. The database answers either in a fraction of a
millisecond, while the framework's routing, parameter parsing and response
machinery cost several times that. :class:`FastReads` sits just inside the HTTP
edge (so request ids, security headers, metrics, logs and rate limits apply as
to any request) and answers the plain, successful form of these requests
itself:

- a detail read from the event loop, through a validated cache of records:
  :class:`~foss_registry.api.record_cache.RecordCache` on SQLite (an indexed
  point read, as DESIGN allows),
  :class:`~foss_registry.api.postgres_reads.PostgresRecords` on PostgreSQL (one
  statement on an asynchronous connection);
- a list or search: on SQLite on a bounded thread pool of its own (at most
  :data:`LIST_THREADS`), through a read-only connection kept per pool thread
  (DESIGN: searches never run on the event loop);
  on PostgreSQL from the event loop, its statements on an asynchronous
  connection (:meth:`~foss_registry.api.postgres_reads.PostgresRecords.list_json`).

It answers only when it is sure. Any other form of the request (a parameter
the route does not take, a repeated or out-of-range one, odd slashes, another
method, a cross-origin request with CORS on) and every error go on to the
framework's handler, which stays the one documented route and the one place
errors are shaped. Tests check that both give the same bytes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol
from urllib.parse import parse_qsl

import anyio
import msgspec

from foss_registry.api.params import MAX_LIMIT, MAX_OFFSET, parse_digits
from foss_registry.api.record_cache import open_read_only
from foss_registry.api.v1.packages import MAX_FILTER, MAX_SEARCH, MAX_VERSION
from foss_registry.packages import records as reads
from foss_registry.packages import search

#: The most threads SQLite lists run on in one API process. With the process's threads
#: on one CPU (:mod:`foss_registry.cpu_affinity`) four list threads answered `search=library
#: for` at 1,202 req/s with a p99 of 50 ms at ``wrk -c32``, two at 1,336 req/s and 36 ms.
LIST_THREADS = 2
#: The routes answered here, as the framework names them in metrics and logs.
DETAIL_ROUTE = "/api/v1/packages/{name}"
LIST_ROUTE = "/api/v1/packages"
_DETAIL_PREFIX = LIST_ROUTE + "/"
_JSON = b"application/json"
# The parameters each route takes, with their maximum lengths (as declared there).
_DETAIL_PARAMETERS = {"ecosystem": MAX_FILTER, "version": MAX_VERSION}
_LIST_PARAMETERS = {
    "search": MAX_SEARCH,
    "ecosystem": MAX_FILTER,
    "status": MAX_FILTER,
    "limit": len(str(MAX_LIMIT)),
    "offset": len(str(MAX_OFFSET)),
}


def _plain_query(query_string: bytes, accepted: dict[str, int]) -> dict[str, str] | None:
    """The query's parameters, or None when the framework must judge them."""
    if not query_string:
        return {}
    try:
        pairs = parse_qsl(query_string.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    params = dict(pairs)
    if len(params) != len(pairs) or any(
        key not in accepted or len(value) > accepted[key] for key, value in params.items()
    ):
        return None
    return params


def _page(params: dict[str, str]) -> tuple[int, int] | None:
    """The limit and offset, or None unless both are plain in-range integers."""
    limit = parse_digits(params.get("limit", "100"), 1, MAX_LIMIT)
    offset = parse_digits(params.get("offset", "0"), 0, MAX_OFFSET)
    return None if limit is None or offset is None else (limit, offset)


class SQLiteThreadReaders:
    """A read-only SQLite connection per thread of the pool, for searches."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        raw: sqlite3.Connection | None = getattr(self._local, "raw", None)
        if raw is None:
            raw = self._local.raw = open_read_only(self._path)
            with self._lock:
                self._all.append(raw)
        return raw

    def list_page(
        self,
        params: dict[str, str | None],
        limit: int,
        offset: int,
        wait: float | None = search.KEEP_WAIT,
    ) -> reads.PackageList:
        """A page of a list or search (raises domain errors like the service).

        ``wait``: see :func:`search.list_packages`.
        """
        raw = self._connection()
        began = False

        def snapshot() -> None:
            # A search of one statement runs none of its own: each costs the
            # thread a round of the GIL (see search._rows).
            nonlocal began
            raw.execute("BEGIN")
            began = True

        try:
            return search.list_packages(
                reads.sqlite_reader(raw),
                "sqlite",
                search=params.get("search"),
                ecosystem=params.get("ecosystem"),
                status=params.get("status"),
                limit=limit,
                offset=offset,
                wait=wait,
                snapshot=snapshot,
            )
        finally:
            if began:
                raw.execute("COMMIT")

    def list_json(
        self, params: dict[str, str], limit: int, offset: int, wait: float | None
    ) -> bytes:
        """The encoded page of a list or search (raises domain errors like the service)."""
        return msgspec.json.encode(self.list_page(dict(params), limit, offset, wait))

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for raw in self._all:
                raw.close()
            self._all.clear()


class RecordReads(Protocol):
    """Where the fast reads get an encoded record (raising domain errors like the builder)."""

    async def read(self, name: str, ecosystem: str | None, version: str | None) -> bytes:
        """The JSON record of the selected version."""
        ...


class ListReads(Protocol):
    """Where the fast reads get an encoded page of a list or search, asynchronously."""

    async def list_json(self, params: dict[str, str], limit: int, offset: int) -> bytes:
        """The encoded page (raising domain errors like the service)."""
        ...


class FastReads:
    """ASGI middleware answering plain package detail reads and list reads.

    Lists are read by ``thread_readers`` (SQLite, on a thread pool of their own) or
    ``list_reads`` (asynchronous); with neither they go on to the framework.
    """

    def __init__(
        self,
        app: Any,
        record_reads: RecordReads,
        thread_readers: SQLiteThreadReaders | None,
        list_threads: int,
        *,
        cors: bool = False,
        list_reads: ListReads | None = None,
    ) -> None:
        self.app = app
        self.record_reads = record_reads
        self.thread_readers = thread_readers
        self.list_reads = list_reads
        # SQLite lists run on ``list_threads`` threads of their own, which bound them
        # (requests beyond wait in the pool's queue): anyio's hop to its threads
        # cost the event loop about 110 µs of CPU and four context switches a
        # request, an executor's 40-60 µs and one or two. Not through the
        # framework's capacity limiter as well: its acquire and release cost each
        # list about a sixth of the server's CPU for a search that finds nothing.
        # At most LIST_THREADS: more only trade the GIL and the CPU back and forth.
        self._pool = (
            ThreadPoolExecutor(min(list_threads, LIST_THREADS), thread_name_prefix="foss-lists")
            if thread_readers is not None
            else None
        )
        # With CORS on, cross-origin requests need the framework's CORS headers.
        self.cors = cors

    def close(self) -> None:
        """Stop the list threads (after any list in flight) and close their connections."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self.thread_readers is not None:
            self.thread_readers.close()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Answer a successful plain read, or hand the request on unchanged."""
        body = None
        route = None
        if scope["type"] == "http" and scope["method"] == "GET" and self._same_origin(scope):
            path: str = scope["path"]
            if path.startswith(_DETAIL_PREFIX):
                route, body = DETAIL_ROUTE, await self._detail(path, scope["query_string"])
            elif path == LIST_ROUTE and (
                self.thread_readers is not None or self.list_reads is not None
            ):
                route, body = LIST_ROUTE, await self._list(scope["query_string"])
        if body is None:
            await self.app(scope, receive, send)
            return
        scope["path_template"] = route
        headers = [(b"content-type", _JSON), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _same_origin(self, scope: Any) -> bool:
        return not self.cors or all(key != b"origin" for key, _ in scope["headers"])

    async def _detail(self, path: str, query_string: bytes) -> bytes | None:
        name = path[len(_DETAIL_PREFIX) :]
        if not name or name[0] == "/" or name[-1] == "/":
            return None
        params = _plain_query(query_string, _DETAIL_PARAMETERS)
        if params is None:
            return None
        try:
            return await self.record_reads.read(
                name, params.get("ecosystem"), params.get("version")
            )
        except Exception:  # errors are the framework's to shape and report
            return None

    async def _list(self, query_string: bytes) -> bytes | None:
        params = _plain_query(query_string, _LIST_PARAMETERS)
        page = _page(params) if params is not None else None
        if params is None or page is None:
            return None
        if self.list_reads is not None:
            try:
                return await self.list_reads.list_json(params, *page)
            except Exception:  # errors are the framework's to shape and report
                return None
        try:
            try:
                return await self._in_pool(params, *page, None)
            except search.CountPending as pending:
                # The first searches of a new common word set wait for its count
                # (seconds at a million versions) here, not on a thread of the
                # pool: the other searches go on. Shielded: a cancelled wait
                # must not cancel a count not yet started.
                with anyio.move_on_after(search.KEEP_WAIT):
                    await asyncio.shield(asyncio.wrap_future(pending.counting))
                return await self._in_pool(params, *page, 0)
        except Exception:  # errors are the framework's to shape and report
            return None

    async def _in_pool(
        self, params: dict[str, str], limit: int, offset: int, wait: float | None
    ) -> bytes:
        """A list or search read by the SQLite thread readers on a thread of the pool."""
        assert self.thread_readers is not None
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self.thread_readers.list_json, params, limit, offset, wait
        )
