"""Database engine, shared metadata and transaction helpers (SQLite or PostgreSQL).

Tables are SQLAlchemy Core ``Table`` objects defined in each domain's ``models``
module against :data:`metadata`. Services take a ``Connection`` inside a
transaction; the edge (API handler, command, job) opens and commits it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

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


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    """Create the engine for a database URL with the settings each backend needs."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            json_serializer=lambda obj: json.dumps(obj, separators=(",", ":")),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so
        # a transaction that writes takes the lock up front (BEGIN IMMEDIATE is
        # chosen per transaction in `write_transaction`).
        event.listen(engine, "connect", _disable_pysqlite_begin)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,
        json_serializer=lambda obj: json.dumps(obj, separators=(",", ":")),
    )


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


__all__ = [
    "UTCDateTime",
    "inserted_id",
    "json_type",
    "make_engine",
    "metadata",
    "ordered_text",
    "read_connection",
    "row_dict",
    "utcnow",
    "write_transaction",
]
