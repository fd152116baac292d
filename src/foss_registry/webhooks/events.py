"""Write events into the outbox, in the transaction of the change that causes them.

An event is one row of ``webhook_events`` holding the exact JSON body every
delivery sends: ``{"type", "timestamp", "data"}`` with ``data`` the package
record's ``ecosystem``, ``name``, ``version``, ``status`` and ``purl`` (and
what else the event adds). The worker's relay turns events into deliveries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from foss_registry.db import dump_json, plain_sql, sql_timestamp, utcnow
from foss_registry.jobs.queue import CHANNEL

EVENT_TYPES = (
    "package.submitted",
    "package.approved",
    "package.rejected",
    "package.flagged",
    "triage.expired",
)
_PACKAGE_FIELDS = ("ecosystem", "name", "version", "status", "purl")
_INSERT_SQL = (
    "INSERT INTO webhook_events (type, body, created_at) VALUES (:type, :body, :created_at)"
)
# PostgreSQL: the same statement wakes the idle workers, whose relay hands the
# event on (one notification per transaction, sent on commit).
_INSERT_NOTIFY_SQL = (
    f"WITH event AS ({_INSERT_SQL} RETURNING id) "
    f"SELECT pg_notify('{CHANNEL}', '') FROM event"
)
_PACKAGE_SQL = "SELECT ecosystem, name, version, status, purl FROM package_versions WHERE id = :id"


def package_data(record: dict[str, Any]) -> dict[str, Any]:
    """The package fields of an event's ``data`` from a package record."""
    return {field: record.get(field) for field in _PACKAGE_FIELDS}


def emit(conn: Connection, event_type: str, data: dict[str, Any]) -> None:
    """Add an event to the outbox in the caller's transaction."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    now = utcnow()
    body = {"type": event_type, "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "data": data}
    # Plain SQL: every submission passes here.
    plain_sql(
        conn,
        _INSERT_NOTIFY_SQL if conn.dialect.name == "postgresql" else _INSERT_SQL,
        {"type": event_type, "body": dump_json(body), "created_at": sql_timestamp(conn, now)},
    )


def emit_for_version(conn: Connection, event_type: str, version_id: int, **extra: Any) -> None:
    """Add an event about one stored version (its current fields) to the outbox."""
    row = plain_sql(conn, _PACKAGE_SQL, {"id": version_id})[0]
    emit(conn, event_type, dict(zip(_PACKAGE_FIELDS, row, strict=True)) | extra)
