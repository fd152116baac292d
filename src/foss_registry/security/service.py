"""A version's newest scan as it counts now, and ``GET /security/scans/{name}``'s report.

The scans record what the scanners found; the triage decisions say which of
those findings no longer count. This module puts the two together, above both:
the report, the reviews and the pages show a scan's status, reason and severity
judged on the findings still counting, each finding with its ``triage``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Connection

from foss_registry.config import get_settings
from foss_registry.db import utcnow
from foss_registry.packages import service as packages
from foss_registry.scans import service as scans
from foss_registry.security.records import DatabaseAge, ScanReport, Vulnerability
from foss_registry.triage import matching
from foss_registry.triage import service as triage


def judged_scan(conn: Connection, version_id: int) -> dict[str, Any] | None:
    """The newest scan as it counts now: live triage decisions applied, or None if none.

    Like :func:`~foss_registry.scans.service.latest_scan_row`, with ``status``,
    ``reason`` and ``severity`` judged on the findings still counting, and every
    finding showing its ``triage`` (null when none covers it).
    """
    row = scans.latest_scan_row(conn, version_id)
    if row is None:
        return None
    triaged = matching.apply(
        list(row["findings"] or []),
        triage.decisions_for_version(conn, version_id),
        status=row["status"],
        reason=row["reason"],
        threshold=get_settings().scan_fail_severity,
    )
    return dict(row) | {
        "status": triaged.status,
        "reason": triaged.reason,
        "findings": triaged.findings,
        "severity": scans.empty_counts() | triaged.severity,
    }


def scan_report(
    conn: Connection,
    version_id: int,
    *,
    stale_days: float | None = None,
    history_limit: int = 100,
    history_offset: int = 0,
) -> ScanReport:
    """Return the seed's scan shape for a version's newest scan, with its history.

    ``database`` tells how old the vulnerability data behind the result is
    (``stale`` when older than ``stale_days``), so that an empty or outdated
    database is never mistaken for a clean result. ``history`` is one page of
    the version's scans, oldest first; ``history_total`` counts them all.
    """
    version = packages.version_identity(conn, version_id)
    row = judged_scan(conn, version_id)
    if row is None:
        return ScanReport(
            package=version["name"],
            version=version["version"],
            ecosystem=version["ecosystem"],
            scan_date=None,
            status="not_scanned",
            reason="This version has never been scanned.",
            vulnerabilities=[],
            severity=scans.severity_counts(None),
            tools_used=[],
            database=None,
            attempts=None,
            history=[],
            history_total=0,
        )
    history, history_total = scans.scan_history(
        conn, version_id, limit=history_limit, offset=history_offset
    )
    # A triaged finding stays listed with its triage, and stops counting.
    return ScanReport(
        package=version["name"],
        version=version["version"],
        ecosystem=version["ecosystem"],
        scan_date=packages.iso(row["scan_date"]),
        status=row["status"],
        reason=row["reason"],
        vulnerabilities=msgspec.convert(row["findings"], list[Vulnerability]),
        severity=scans.severity_counts(row["severity"]),
        tools_used=list(row["tools_used"] or []),
        database=_database_age(row["database_updated_at"], stale_days),
        attempts=row["attempts"],
        history=history,
        history_total=history_total,
    )


def _database_age(updated: datetime | None, stale_days: float | None) -> DatabaseAge | None:
    if updated is None:
        return None
    age = (utcnow() - updated).total_seconds() / 86400
    return DatabaseAge(
        updated_at=packages.iso(updated) or "",
        age_days=round(age, 1),
        stale=None if stale_days is None else age > stale_days,
    )


def get_scan(
    conn: Connection,
    name: str,
    *,
    ecosystem: str | None = None,
    version: str | None = None,
    stale_days: float | None = None,
    history_limit: int = 100,
    history_offset: int = 0,
) -> ScanReport:
    """Return the scan report of the version selected like ``GET /packages/{name}``."""
    version_id = packages.select_version_id(conn, name, ecosystem=ecosystem, version=version)
    return scan_report(
        conn,
        version_id,
        stale_days=stale_days,
        history_limit=history_limit,
        history_offset=history_offset,
    )
