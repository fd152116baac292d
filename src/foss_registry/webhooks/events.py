"""Write events into the outbox, in the transaction of the change that causes them.

An event is one row of ``webhook_events`` holding the exact JSON body every
delivery sends: ``{"type", "timestamp", "data"}`` with ``data`` the package
record's ``ecosystem``, ``name``, ``version``, ``status`` and ``purl`` (and
what else the event adds). The worker's relay turns events into deliveries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select

from foss_registry.db import dump_json, plain_sql_many, sql_timestamp, utcnow
from foss_registry.jobs.queue import CHANNEL
from foss_registry.packages.models import package_versions as pv

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


def package_data(record: Any) -> dict[str, Any]:
    """The package fields of an event's ``data`` from a package record (any object with
    them as attributes: :class:`~foss_registry.packages.records.PackageRecord`)."""
    return {field: getattr(record, field) for field in _PACKAGE_FIELDS}


def emit(conn: Connection, event_type: str, data: dict[str, Any]) -> None:
    """Add an event to the outbox in the caller's transaction."""
    emit_many(conn, [(event_type, data)])


def emit_many(conn: Connection, found: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Add events (type, data) to the outbox, in order, in one statement."""
    for event_type, _ in found:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
    now = utcnow()
    timestamp, created_at = now.strftime("%Y-%m-%dT%H:%M:%SZ"), sql_timestamp(conn, now)
    # Plain SQL: every submission passes here.
    plain_sql_many(
        conn,
        _INSERT_NOTIFY_SQL if conn.dialect.name == "postgresql" else _INSERT_SQL,
        [
            {
                "type": event_type,
                "body": dump_json({"type": event_type, "timestamp": timestamp, "data": data}),
                "created_at": created_at,
            }
            for event_type, data in found
        ],
    )


def emit_for_version(conn: Connection, event_type: str, version_id: int, **extra: Any) -> None:
    """Add an event about one stored version (its current fields) to the outbox."""
    emit_for_versions(conn, [(event_type, version_id, extra)])


_PACKAGES = select(*(pv.c[f] for f in ("id", *_PACKAGE_FIELDS))).where(
    pv.c.id.in_(bindparam("ids", expanding=True))
)


def emit_for_versions(
    conn: Connection, found: Sequence[tuple[str, int, dict[str, Any]]]
) -> None:
    """Add events (type, version id, extra data) about stored versions, as they are now, in order.

    The versions are read in one statement and the events written in one.
    """
    if not found:
        return
    ids = sorted({version_id for _, version_id, _ in found})
    rows = {row.id: row._mapping for row in conn.execute(_PACKAGES, {"ids": ids})}
    emit_many(
        conn,
        [
            (event_type, {f: rows[version_id][f] for f in _PACKAGE_FIELDS} | extra)
            for event_type, version_id, extra in found
        ],
    )
