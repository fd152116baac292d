"""Database engine, shared metadata and transaction helpers (SQLite or PostgreSQL).

Tables are SQLAlchemy Core ``Table`` objects defined in each domain's ``models``
module against :data:`metadata`. Services take a ``Connection`` inside a
transaction; the edge (API handler, command, job) opens and commits it.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from foss_registry.search_index import register_sqlite_functions

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no timezone type and returns naive values; normalising here keeps
    comparisons and the API's ``Z`` timestamps identical on both backends.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store aware values as UTC (naive ones are taken to be UTC already)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC datetimes on every backend."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def ordered_text(length: int) -> TypeEngine[str]:
    """A string column compared byte by byte on every backend.

    Version sort tokens and normalised names are ordered in SQL; PostgreSQL's
    locale collations ignore punctuation, so they get the "C" collation there
    (SQLite already compares bytes).
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def row_dict(row: Any) -> dict[str, Any]:
    """Return a result row as a dict with plain ``str`` keys.

    SQLAlchemy's keys may be ``quoted_name`` (a str subclass) that strict
    serialisers such as msgspec refuse.
    """
    return {str(k): v for k, v in row._mapping.items()}


def inserted_id(result: Any) -> int:
    """Return the primary key of the row an INSERT created."""
    key = result.inserted_primary_key
    assert key is not None, "INSERT did not report a primary key"
    return int(key[0])


def json_type() -> JSON:
    """A JSON column type that serialises compactly on both backends."""
    return JSON(none_as_null=True)


def dump_json(value: Any) -> str:
    """Serialise a value for a JSON column exactly as the engine does."""
    return json.dumps(value, separators=(",", ":"))


_NAMED_PARAM = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


def plain_sql(conn: Connection, sql: str, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
    """Run one plain SQL statement with ``:name`` parameters; return every row it returns.

    For hot write paths: building and compiling SQLAlchemy statements costs
    several times what SQLite takes to run them. On SQLite the statement goes
    straight to the driver connection (inside the connection's transaction);
    on PostgreSQL through SQLAlchemy's driver-level execution. Parameters must
    already be in the column's stored form (see :func:`sql_timestamp`,
    :func:`dump_json`).
    """
    if conn.dialect.name == "sqlite":
        return conn.connection.driver_connection.execute(sql, params).fetchall()  # type: ignore[union-attr]
    result = conn.exec_driver_sql(_NAMED_PARAM.sub(r"%(\1)s", sql), params)
    return result.all() if result.returns_rows else []


def plain_sql_many(conn: Connection, sql: str, rows: Sequence[dict[str, Any]]) -> None:
    """Run one plain SQL statement once per parameter set of ``rows`` (what it returns is dropped).

    As :func:`plain_sql`, for the writes of a batch: the driver's ``executemany``,
    which psycopg sends to PostgreSQL in one pipeline (one round trip, not one
    per row).
    """
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.executemany(sql, rows)  # type: ignore[union-attr]
        return
    conn.exec_driver_sql(_NAMED_PARAM.sub(r"%(\1)s", sql), list(rows))


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def update_rows(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, key: str = "id"
) -> None:
    """Set columns of many rows, each found by its ``key`` column; every row names the same ones.

    On PostgreSQL one statement for them all: the rows travel as one JSON
    parameter, read back typed as the columns are (``json_to_recordset``), where
    an ``executemany`` would execute one UPDATE per row. On SQLite, in process,
    an ``executemany``. Values are as SQLAlchemy takes them (datetimes aware).
    """
    if not rows:
        return
    columns = [c for c in rows[0] if c != key]
    if conn.dialect.name == "postgresql":
        sets = ", ".join(f'"{c}" = v."{c}"' for c in columns)
        plain_sql(
            conn,
            f'UPDATE "{table.name}" AS t SET {sets} '
            f"FROM {_json_recordset(conn, table, [key, *columns])} "
            f'WHERE t."{key}" = v."{key}"',
            {"rows": _rows_json(rows)},
        )
        return
    conn.execute(
        update(table)
        .where(table.c[key] == bindparam(f"b_{key}"))
        .values({c: bindparam(f"b_{c}") for c in columns}),
        [{f"b_{c}": value for c, value in row.items()} for row in rows],
    )


def upsert_rows(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, key: str
) -> None:
    """Insert many rows, each replacing the columns it names of the row with its ``key``.

    As :func:`update_rows`: one ``INSERT ... SELECT`` from one JSON parameter on
    PostgreSQL, an ``executemany`` on SQLite.
    """
    if not rows:
        return
    columns = list(rows[0])
    replace = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != key)
    if conn.dialect.name == "postgresql":
        names = ", ".join(f'"{c}"' for c in columns)
        plain_sql(
            conn,
            f'INSERT INTO "{table.name}" ({names}) SELECT {names} '
            f"FROM {_json_recordset(conn, table, columns)} "
            f'ON CONFLICT ("{key}") DO UPDATE SET {replace}',
            {"rows": _rows_json(rows)},
        )
        return
    statement = sqlite_insert(table)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[key], set_={c: statement.excluded[c] for c in columns if c != key}
        ),
        list(rows),
    )


def _json_recordset(conn: Connection, table: Table, columns: Sequence[str]) -> str:
    """PostgreSQL: the `:rows` JSON parameter as rows `v`, typed as the table's columns."""
    typed = ", ".join(f'"{c}" {table.c[c].type.compile(dialect=conn.dialect)}' for c in columns)
    return f"json_to_recordset(CAST(:rows AS json)) AS v({typed})"


def _rows_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(rows), separators=(",", ":"), default=_json_value)


def sql_timestamp(conn: Connection, value: datetime) -> Any:
    """Return a UTC timestamp as a :func:`plain_sql` parameter for a ``UTCDateTime`` column.

    SQLite stores the text SQLAlchemy's ``DateTime`` writes (``YYYY-MM-DD
    HH:MM:SS.ffffff`` in UTC); PostgreSQL takes the aware datetime.
    """
    if conn.dialect.name == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def iso(value: datetime | str | None) -> str | None:
    """Format a timestamp the way the API shows it: ISO 8601 in UTC with ``Z``.

    Accepts the datetime PostgreSQL returns and the text SQLite stores
    (``YYYY-MM-DD HH:MM:SS.ffffff``, always UTC in this database).
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value[:10] + "T" + value[11:19] + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; busy_timeout makes concurrent
    # writers (the server, `foss vulndb import`, workers) wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # NORMAL in WAL mode is durable against process crashes (kill -9); only an
    # operating-system crash or power cut can lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # The search indexes' triggers and searches call these (foss_registry.search_index).
    register_sqlite_functions(dbapi_connection)


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    """Create the engine for a database URL with the settings each backend needs."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            # The same limit as on PostgreSQL (pool_size + 2 * pool_size), but every
            # connection is kept: closing the overflow ones on return meant reopening
            # them, PRAGMAs and all, a moment later under load. An idle SQLite
            # connection is only an open file.
            pool_size=pool_size * 3,
            max_overflow=0,
            json_serializer=dump_json,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so
        # a transaction that writes takes the lock up front (BEGIN IMMEDIATE is
        # chosen per transaction in `write_transaction`).
        event.listen(engine, "connect", _disable_pysqlite_begin)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,
        json_serializer=dump_json,
    )
    event.listen(engine, "connect", _postgres_utc, insert=True)
    return engine


def _postgres_utc(dbapi_connection: Any, _record: Any) -> None:
    # Plain SQL reads format the timestamps PostgreSQL returns as they come: in
    # the session's time zone, which the server or the database may set to
    # anything. Every connection of the registry works in UTC.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
    dbapi_connection.autocommit = autocommit


def _disable_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.info.pop("sqlite_begin", "BEGIN")
    conn.exec_driver_sql(mode)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """Open a transaction meant to write, committed on success, rolled back on error.

    On SQLite it starts with ``BEGIN IMMEDIATE`` so that two writers queue on the
    busy timeout instead of failing later with "database is locked" when a
    read lock cannot be upgraded.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.info["sqlite_begin"] = "BEGIN IMMEDIATE"
        with conn.begin():
            yield conn


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """Open a connection for reads (one consistent transaction, then released)."""
    with engine.connect() as conn, conn.begin():
        yield conn


class GroupCommit:
    """One writer thread per API process: writes arriving together share one commit.

    SQLite runs one write transaction at a time. Pool threads racing for the
    lock with ``BEGIN IMMEDIATE`` mostly sleep in the busy handler while the
    lock is already free again, and each small commit rewrites the same index
    and full-text pages. PostgreSQL lets writers run side by side, but each
    commit waits for its own flush of the write-ahead log. Here one thread takes
    every write queued so far (up to ``max_batch``), runs each in its own
    SAVEPOINT (so a write that raises, a 409 or a 400, is undone alone and its
    caller gets the exception), commits once, and only then resolves the
    callers' futures: a result is never handed out for a write that is not
    committed. If the transaction itself fails, every write of the batch gets
    that error (none of them is stored). A write (or a batch) that PostgreSQL
    aborted to break a deadlock with another process's batch, or for a
    serialization conflict, runs again alone once the batch is over.

    The thread starts on demand and exits after ``idle_seconds`` without work.
    A write must act only through the connection it is given: whatever else it
    did would stay when its savepoint or its batch is rolled back.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 64, idle_seconds: float = 5.0) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._idle_seconds = idle_seconds
        self._pending: deque[tuple[Callable[[Connection], Any], Future[Any]]] = deque()
        self._wakeup = threading.Condition()
        self._running = False

    @property
    def queued(self) -> int:
        """How many writes wait for the writer thread (not counting the batch it runs)."""
        return len(self._pending)

    def submit(self, write: Callable[[Connection], T]) -> Future[T]:
        """Queue ``write(conn)``; the future resolves once its transaction has committed."""
        future: Future[T] = Future()
        with self._wakeup:
            self._pending.append((write, future))
            if self._running:
                self._wakeup.notify()
            else:
                self._running = True
                threading.Thread(target=self._run, name="sqlite-group-commit", daemon=True).start()
        return future

    def _run(self) -> None:
        while True:
            with self._wakeup:
                if not self._pending:
                    self._wakeup.wait(self._idle_seconds)
                if not self._pending:
                    self._running = False
                    return
                count = min(len(self._pending), self._max_batch)
                batch = [self._pending.popleft() for _ in range(count)]
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[tuple[Callable[[Connection], Any], Future[Any]]]) -> None:
        # A caller that gave up (a cancelled future) is left out before it starts.
        live = [(write, future) for write, future in batch if future.set_running_or_notify_cancel()]
        if not live:
            return
        outcomes: list[tuple[Future[Any], bool, Any]] = []
        # Writes PostgreSQL aborted for a deadlock with another process: run alone afterwards.
        again: list[tuple[Callable[[Connection], Any], Future[Any]]] = []
        try:
            with write_transaction(self._engine) as conn:
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                for write, future in live:
                    # Plain SAVEPOINT statements: SQLAlchemy's begin_nested costs
                    # ten times more than the statements themselves.
                    cursor.execute("SAVEPOINT group_commit_item")
                    try:
                        value = write(conn)
                    except Exception as exc:
                        cursor.execute("ROLLBACK TO group_commit_item")
                        cursor.execute("RELEASE group_commit_item")
                        if _transient(exc):
                            again.append((write, future))
                        else:
                            outcomes.append((future, False, exc))
                    else:
                        cursor.execute("RELEASE group_commit_item")
                        outcomes.append((future, True, value))
        except BaseException as exc:
            if len(live) > 1 and _transient(exc):
                for write, future in live:
                    self._commit_one(write, future)
                return
            # Nothing of the batch is stored; an answer computed inside it (even
            # a 409 against a row of this batch) would not be true any more.
            # Even a BaseException goes to the callers: the thread must live on
            # for the writes still queued.
            for _, future in live:
                future.set_exception(exc)
            return
        for future, ok, value in outcomes:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        for write, future in again:
            self._commit_one(write, future)

    def _commit_one(self, write: Callable[[Connection], Any], future: Future[Any]) -> None:
        """Run one write of a batch that had to be undone in a transaction of its own."""
        try:
            with write_transaction(self._engine) as conn:
                value = write(conn)
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(value)


#: PostgreSQL's codes for a transaction aborted to let another one go on.
_TRANSIENT_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure


def _transient(exc: BaseException) -> bool:
    error = getattr(exc, "orig", exc)  # SQLAlchemy wraps the driver's error
    return getattr(error, "sqlstate", None) in _TRANSIENT_SQLSTATES


__all__ = [
    "GroupCommit",
    "UTCDateTime",
    "dump_json",
    "inserted_id",
    "json_type",
    "make_engine",
    "metadata",
    "ordered_text",
    "plain_sql",
    "read_connection",
    "row_dict",
    "sql_timestamp",
    "utcnow",
    "write_transaction",
]
