"""Request scans, record their results, and answer ``GET /security/scans/{name}``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from foss_registry.db import inserted_id, utcnow
from foss_registry.jobs import queue
from foss_registry.packages import service as packages
from foss_registry.packages.models import package_versions as pv
from foss_registry.scans.models import scans

SEVERITY_LEVELS = ("critical", "high", "medium", "low", "unknown")
SCAN_JOB = "scan"


def empty_counts() -> dict[str, int]:
    """Return a severity count with every level at zero."""
    return dict.fromkeys(SEVERITY_LEVELS, 0)


def request_scan(conn: Connection, version_id: int, *, trigger: str) -> int:
    """Record a pending scan and queue its job in the caller's transaction."""
    scan_id = inserted_id(
        conn.execute(
            scans.insert().values(
                version_id=version_id,
                status="pending",
                tools_used=[],
                findings=[],
                severity=empty_counts(),
                trigger=trigger,
                created_at=utcnow(),
            )
        )
    )
    queue.enqueue(conn, SCAN_JOB, {"version_id": version_id, "scan_id": scan_id})
    return scan_id


def finish_scan(conn: Connection, scan_id: int, **values: Any) -> None:
    """Store a scan's outcome (status, findings, counts, tools, reason)."""
    conn.execute(update(scans).where(scans.c.id == scan_id).values(**values))


def latest_scan_row(conn: Connection, version_id: int) -> Any:
    """Return the newest scan row of a version, or None if it was never scanned."""
    return (
        conn.execute(
            select(scans)
            .where(scans.c.version_id == version_id)
            .order_by(scans.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )


def scan_report(conn: Connection, version_id: int) -> dict[str, Any]:
    """Return the seed's scan shape for a version's newest scan."""
    version = conn.execute(
        select(pv.c.name, pv.c.version, pv.c.ecosystem).where(pv.c.id == version_id)
    ).one()
    row = latest_scan_row(conn, version_id)
    history = conn.execute(
        select(scans.c.status, scans.c.scan_date, scans.c.trigger, scans.c.changes)
        .where(scans.c.version_id == version_id)
        .order_by(scans.c.id)
    ).all()
    base = {
        "package": version.name,
        "version": version.version,
        "ecosystem": version.ecosystem,
    }
    if row is None:
        return base | {
            "scan_date": None,
            "status": "not_scanned",
            "reason": "This version has never been scanned.",
            "vulnerabilities": [],
            "severity": empty_counts(),
            "tools_used": [],
            "database": None,
            "history": [],
        }
    database_updated = row["database_updated_at"]
    return base | {
        "scan_date": packages.iso(row["scan_date"]),
        "status": row["status"],
        "reason": row["reason"],
        "vulnerabilities": list(row["findings"] or []),
        "severity": empty_counts() | dict(row["severity"] or {}),
        "tools_used": list(row["tools_used"] or []),
        "database": None
        if database_updated is None
        else {
            "updated_at": packages.iso(database_updated),
            "age_days": round((utcnow() - database_updated).total_seconds() / 86400, 1),
        },
        "history": [
            {
                "status": h.status,
                "scan_date": packages.iso(h.scan_date),
                "trigger": h.trigger,
                "changes": h.changes,
            }
            for h in history
        ],
    }


def get_scan(
    conn: Connection, name: str, *, ecosystem: str | None = None, version: str | None = None
) -> dict[str, Any]:
    """Return the scan report of the version selected like ``GET /packages/{name}``."""
    version_id = packages.select_version_id(conn, name, ecosystem=ecosystem, version=version)
    return scan_report(conn, version_id)
