"""Package records read on PostgreSQL from the event loop, with a cache PostgreSQL keeps true.

The PostgreSQL twin of :mod:`foss_registry.api.record_cache`. A detail read
runs the record builder's steps as one statement
(:func:`foss_registry.packages.records.one_statement_record_steps`) on an
asynchronous psycopg connection from a small pool, with prepared statements:
no thread hop, no SQLAlchemy, no ping before each use (a broken connection
fails the read, the request goes on to the framework's handler, and the pool
replaces the connection).

Encoded records are cached per process, and the cache is never stale, as on
SQLite. SQLite has ``PRAGMA data_version``; PostgreSQL has its current
snapshot (``pg_current_snapshot()``: the oldest transaction still running, the
next transaction id, and those in between still running), which changes
whenever any transaction that wrote something commits or ends, in this process
or any other, through any path: the API, a job, a command, a ``psql`` session.
No writer has to remember to announce anything. The cache remembers the
snapshot it was filled under and is emptied when the snapshot moves.

A record not in the cache is read at once, in one statement that also returns
the snapshot it read in; the record is kept under that snapshot. A record in the
cache is checked against a snapshot read *after* its request was received: the
request waits for the next snapshot query not yet sent, and every request that
arrives while one is under way shares the one after it. So under load one
query serves a whole wave of requests, and a client that saw its write
answered (committed) always reads it back, whichever process it asks.
Snapshots are cluster-wide: writes to other databases on the same server empty
the cache too (harmless, only less cached).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import psycopg
from psycopg_pool import AsyncConnectionPool

from foss_registry.api.record_cache import EncodedRecords
from foss_registry.packages import postgres_word_sets, records, search, search_postgres

T = TypeVar("T")

#: The state of every committed transaction as text; equal texts mean nothing committed.
SNAPSHOT_SQL = "SELECT pg_current_snapshot()::text"


def _connect_options() -> dict[str, Any]:
    # Autocommit: each statement is its own consistent read (the record is one
    # statement). Prepared on first use: the few statements run again and again.
    # Planned once, generically: a search's page took 1-1.5 ms to plan for 1-8 ms
    # to run at a million versions, and PostgreSQL's own choice kept planning it
    # anew; the generic plans of the search shapes ran as fast or faster (one word
    # and a status: 18 ms instead of 104). No JIT: a generic plan's estimates can
    # pass its threshold for a read of a few hundred rows, and compiling it took
    # 130 ms (a rarer word's page, run in 2 ms). UTC, as every connection of the
    # registry (timestamps are formatted as read).
    return {
        "autocommit": True,
        "prepare_threshold": 0,
        "options": "-c TimeZone=UTC -c plan_cache_mode=force_generic_plan -c jit=off",
    }


async def _fetch(conn: psycopg.AsyncConnection[Any], query: records.Query) -> records.Rows:
    sql, params = query
    cursor = await conn.execute(records.pyformat(sql), params)
    return await cursor.fetchall()


async def run_steps(
    conn: psycopg.AsyncConnection[Any], make_steps: Callable[[], records.Steps[T]]
) -> T:
    """Run a read's steps on an autocommit connection: one statement, else one transaction."""
    steps = make_steps()
    rows = await _fetch(conn, next(steps))
    try:
        steps.send(rows)
    except StopIteration as done:
        return done.value
    # It needs more than one statement: read it all again inside one transaction,
    # so that every statement sees the same snapshot.
    steps.close()
    async with conn.transaction():
        steps = make_steps()
        query = next(steps)
        while True:
            rows = await _fetch(conn, query)
            try:
                query = steps.send(rows)
            except StopIteration as done:
                return done.value


class SnapshotWatch:
    """Reads PostgreSQL's current snapshot for waves of requests, on one connection."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._conn: psycopg.AsyncConnection[Any] | None = None
        # The next query, not sent yet: every request arriving now may wait for it.
        self._next: asyncio.Future[tuple[int, str]] | None = None
        self._sent = 0
        self._runner: asyncio.Task[None] | None = None

    def next_snapshot(self) -> asyncio.Future[tuple[int, str]]:
        """A future of (sequence number, snapshot) read after this call."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if self._runner is None or self._runner.done():
                self._runner = asyncio.ensure_future(self._run())
        return self._next

    async def _run(self) -> None:
        while self._next is not None:
            # From here on, a request that arrives waits for the query after this one.
            future, self._next = self._next, None
            self._sent += 1
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await psycopg.AsyncConnection.connect(
                        self._conninfo, **_connect_options()
                    )
                cursor = await self._conn.execute(SNAPSHOT_SQL)
                row = await cursor.fetchone()
                assert row is not None
                future.set_result((self._sent, str(row[0])))
            except Exception as exc:  # the waiting requests go on to the framework's handler
                future.set_exception(exc)
                future.exception()  # retrieved here too: no waiter may be left to see it
                await self._drop_connection()

    async def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def aclose(self) -> None:
        """Stop and close the connection."""
        if self._runner is not None and not self._runner.done():
            self._runner.cancel()
            with contextlib.suppress(BaseException):
                await self._runner
        await self._drop_connection()


class _LoopResources:
    """The pool and the watch of one event loop (asynchronous connections belong to one)."""

    def __init__(self, conninfo: str, pool_size: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.conninfo = conninfo
        self.watch = SnapshotWatch(conninfo)
        self.pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            conninfo,
            min_size=pool_size,
            max_size=pool_size,
            kwargs=_connect_options(),
            open=False,
            name="foss-record-reads",
        )
        self.opened: asyncio.Task[None] = asyncio.ensure_future(self.pool.open())
        # The word sets and name terms being kept, by key: one keeping each, however
        # many searches ask.
        self.keeping: dict[str, asyncio.Task[None]] = {}

    async def keep(self, query: records.Query) -> None:
        """Keep the word set or term of a :data:`~search_postgres.KEEP` step, once for all asking.

        On connections of its own (:mod:`~foss_registry.packages.postgres_word_sets`):
        the pool's serve other reads meanwhile.
        """
        key = postgres_word_sets.keeping(query[1])
        task = self.keeping.get(key)
        if task is None:
            task = self.keeping[key] = asyncio.ensure_future(self._keep(query))
            task.add_done_callback(lambda _done: self.keeping.pop(key, None))
        # Shielded: a search given up must not cancel the keeping others wait for.
        await asyncio.shield(task)

    async def _keep(self, query: records.Query) -> None:
        # Seconds of a synchronous count on connections of its own, once per set.
        await asyncio.to_thread(postgres_word_sets.keep, self.conninfo, query[1])

    async def aclose(self) -> None:
        for task in self.keeping.values():
            task.cancel()
        await self.watch.aclose()
        with contextlib.suppress(Exception):
            await self.opened
        await self.pool.close()


class PostgresRecords:
    """Reads encoded package records on PostgreSQL, cached while nothing commits."""

    def __init__(self, conninfo: str, *, pool_size: int = 4) -> None:
        self._conninfo = conninfo
        self._pool_size = pool_size
        self._resources: _LoopResources | None = None
        self._cache = EncodedRecords()
        # The snapshot every kept record was read in, and the newest check seen.
        self._snapshot: str | None = None
        self._sequence = 0

    @classmethod
    def for_url(cls, url: Any, *, pool_size: int = 4) -> PostgresRecords:
        """Reads on the database of a SQLAlchemy URL (``postgresql+psycopg://``)."""
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return cls(conninfo, pool_size=pool_size)

    def _here(self) -> _LoopResources:
        resources = self._resources
        if resources is None or resources.loop is not asyncio.get_running_loop():
            # First use, or a new event loop (in-process test clients start one each).
            resources = self._resources = _LoopResources(self._conninfo, self._pool_size)
        return resources

    async def read(self, name: str, ecosystem: str | None, version: str | None) -> bytes:
        """The JSON record of the selected version (raises domain errors like the builder)."""
        resources = self._here()
        key = (name, ecosystem, version)
        if self._cache.get(key) is not None:
            # Kept: good if it was read in the very snapshot a query sent after this
            # request arrived sees (equal snapshots: nothing committed in between).
            sequence, snapshot = await resources.watch.next_snapshot()
            if snapshot != self._snapshot and sequence > self._sequence:
                self._cache.clear()
                self._snapshot = snapshot
            self._sequence = max(self._sequence, sequence)
            body = self._cache.get(key) if snapshot == self._snapshot else None
            if body is not None:
                return body
        # Not kept: read now, which is fresh by itself (one statement, one round trip).
        await resources.opened
        async with resources.pool.connection() as conn:
            read: tuple[records.PackageRecord, str | None] = await run_steps(
                conn, lambda: records.one_statement_record_steps(name, ecosystem, version)
            )
        record, read_in = read
        body = msgspec.json.encode(record)
        if read_in is not None:
            # The record is the data of exactly that snapshot: keep it under it. A
            # snapshot other than the cache's starts the cache afresh (what it held
            # was kept under another one).
            if read_in != self._snapshot:
                self._cache.clear()
                self._snapshot = read_in
            self._cache.put(key, body)
        return body

    async def list_json(self, params: dict[str, str], limit: int, offset: int) -> bytes:
        """The encoded page of a list or search (raises domain errors like the service).

        Its statements (:func:`search.postgres_steps`) run one by one on a
        connection of the pool, prepared; autocommit, as in the service's read
        transaction each statement sees the data committed when it starts.
        Never cached: a page costs about what it shows.
        """
        steps = search.postgres_steps(
            params.get("search"), params.get("ecosystem"), params.get("status"), limit, offset
        )
        resources = self._here()
        await resources.opened
        pool = resources.pool
        # One connection of the pool for the statements in a row (taking one from the
        # pool and giving it back cost as much of this process as a statement), given
        # back while a word set or a name term is kept (seconds, once).
        conn: psycopg.AsyncConnection[Any] | None = None
        try:
            query = next(steps)
            while True:
                rows: records.Rows = []
                if query[0] == search_postgres.KEEP:
                    if conn is not None:
                        await pool.putconn(conn)
                        conn = None
                    await resources.keep(query)
                else:
                    if conn is None:
                        conn = await pool.getconn()
                    rows = await _fetch(conn, query)
                query = steps.send(rows)
        except StopIteration as done:
            return msgspec.json.encode(done.value)
        finally:
            if conn is not None:
                await pool.putconn(conn)

    async def aclose(self) -> None:
        """Close this process's connections."""
        resources, self._resources = self._resources, None
        self._cache.clear()
        if resources is not None and resources.loop is asyncio.get_running_loop():
            await resources.aclose()
