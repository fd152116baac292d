"""Request scans, record their results, and answer ``GET /security/scans/{name}``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection, bindparam, func, select, update

from foss_registry.db import dump_json, plain_sql, sql_timestamp, utcnow
from foss_registry.jobs import queue
from foss_registry.packages import service as packages
from foss_registry.packages.models import package_versions as pv
from foss_registry.scans.models import scans
from foss_registry.scans.records import ScanChanges, ScanHistoryEntry, ScanSeverityCounts
from foss_registry.vulns import service as vulndb

SEVERITY_LEVELS = ("critical", "high", "medium", "low", "unknown")
#: Job kind scanning one version (payload ``{"version_id", "scan_id"}``).
SCAN_JOB = "scan"
#: Job kind scanning many versions in one transaction (payload ``{"scan_ids": [...]}``).
SCAN_BATCH_JOB = "scan-batch"
#: Scans per batch job: a re-scan of 10,000 versions is 200 short transactions, not 10,000.
SCAN_BATCH_SIZE = 50


def empty_counts() -> dict[str, int]:
    """Return a severity count with every level at zero."""
    return dict.fromkeys(SEVERITY_LEVELS, 0)


_REQUEST_SCAN_SQL = (
    'INSERT INTO scans (version_id, status, tools_used, findings, severity, "trigger", '
    "created_at) VALUES (:version_id, 'pending', '[]', '[]', :severity, :trigger, :created_at) "
    "RETURNING id"
)
_EMPTY_SEVERITY_JSON = dump_json(empty_counts())


def request_scan(conn: Connection, version_id: int, *, trigger: str, image: bool = False) -> int:
    """Record a pending scan and queue its job in the caller's transaction.

    ``image``: the version is a Docker image, whose external scanners the job
    runs before its transaction (the others skip that step).
    """
    # Plain SQL: every submission passes here (see packages.service.submit).
    rows = plain_sql(
        conn,
        _REQUEST_SCAN_SQL,
        {
            "version_id": version_id,
            "severity": _EMPTY_SEVERITY_JSON,
            "trigger": trigger,
            "created_at": sql_timestamp(conn, utcnow()),
        },
    )
    scan_id = int(rows[0][0])
    queue.enqueue(conn, SCAN_JOB, {"version_id": version_id, "scan_id": scan_id, "image": image})
    return scan_id


def rescan_packages(conn: Connection, names: Iterable[tuple[str, str]], trigger: str) -> int:
    """Queue a re-scan of every stored version of some (ecosystem, normalised name) packages.

    Returns how many versions will be re-scanned (a vulnerability import's re-scans).
    """
    version_ids = packages.version_ids_of(conn, names)
    if version_ids:
        request_rescans(conn, version_ids, trigger=trigger)
    return len(version_ids)


def request_rescans(conn: Connection, version_ids: Sequence[int], *, trigger: str) -> list[int]:
    """Record pending scans of many versions and queue them in batches; return the scan ids.

    Docker images get a job each (their external scanners run outside the
    job's transaction); other versions are scanned ``SCAN_BATCH_SIZE`` per job.
    """
    if not version_ids:
        return []
    now = utcnow()
    rows = conn.execute(
        scans.insert().returning(scans.c.id, scans.c.version_id, sort_by_parameter_order=True),
        [
            {
                "version_id": version_id,
                "status": "pending",
                "tools_used": [],
                "findings": [],
                "severity": empty_counts(),
                "trigger": trigger,
                "created_at": now,
            }
            for version_id in version_ids
        ],
    ).all()
    images: set[int] = set()
    for start in range(0, len(version_ids), 500):
        chunk = list(version_ids[start : start + 500])
        images.update(
            conn.execute(
                select(pv.c.id).where(pv.c.id.in_(chunk), pv.c.ecosystem == "docker")
            ).scalars()
        )
    batch: list[int] = []
    for scan_id, version_id in rows:
        if version_id in images:
            queue.enqueue(
                conn, SCAN_JOB, {"version_id": version_id, "scan_id": scan_id, "image": True}
            )
            continue
        batch.append(scan_id)
        if len(batch) == SCAN_BATCH_SIZE:
            queue.enqueue(conn, SCAN_BATCH_JOB, {"scan_ids": batch})
            batch = []
    if batch:
        queue.enqueue(conn, SCAN_BATCH_JOB, {"scan_ids": batch})
    return [scan_id for scan_id, _ in rows]


def finish_scan(conn: Connection, scan_id: int, **values: Any) -> None:
    """Store a scan's outcome (status, findings, counts, tools, reason)."""
    conn.execute(update(scans).where(scans.c.id == scan_id).values(**values))


def fail_scans(
    conn: Connection, scan_ids: Sequence[int], *, error: str, attempts: int
) -> list[int]:
    """End the still-pending scans among ``scan_ids`` in ``error``; return their versions' ids."""
    if not scan_ids:
        return []
    rows = conn.execute(
        select(scans.c.id, scans.c.version_id).where(
            scans.c.id.in_(list(scan_ids)), scans.c.status == "pending"
        )
    ).all()
    if not rows:
        return []
    reason = f"The scan failed {attempts} times and was given up: {error}"[:1000]
    conn.execute(
        update(scans)
        .where(scans.c.id.in_([row.id for row in rows]))
        .values(status="error", reason=reason, attempts=attempts, scan_date=utcnow())
    )
    return sorted({row.version_id for row in rows})


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


def scan_history(
    conn: Connection, version_id: int, *, limit: int = 100, offset: int = 0
) -> tuple[list[ScanHistoryEntry], int]:
    """One page of a version's scans, oldest first, and how many it has in all."""
    rows = conn.execute(
        select(
            scans.c.status,
            scans.c.scan_date,
            scans.c.trigger,
            scans.c.reason,
            scans.c.severity,
            scans.c.changes,
        )
        .where(scans.c.version_id == version_id)
        .order_by(scans.c.id)
        .limit(limit)
        .offset(offset)
    ).all()
    total = conn.execute(
        select(func.count()).select_from(scans).where(scans.c.version_id == version_id)
    ).scalar_one()
    page = [
        ScanHistoryEntry(
            status=h.status,
            scan_date=packages.iso(h.scan_date),
            trigger=h.trigger,
            reason=h.reason,
            severity=severity_counts(h.severity),
            changes=msgspec.convert(h.changes, ScanChanges) if h.changes else None,
        )
        for h in rows
    ]
    return page, total


def severity_counts(stored: Mapping[str, int] | None) -> ScanSeverityCounts:
    """The counts per level of a stored ``severity`` (a level it lacks counts 0)."""
    return msgspec.convert(empty_counts() | dict(stored or {}), ScanSeverityCounts)


def newest_findings(conn: Connection, version_ids: Iterable[int]) -> dict[int, list[Any]]:
    """The findings of each version's newest scan (versions never scanned are left out)."""
    ids = list(version_ids)
    if not ids:
        return {}
    newest = (
        select(func.max(scans.c.id))
        .where(scans.c.version_id.in_(ids))
        .group_by(scans.c.version_id)
        .scalar_subquery()
    )
    return {
        row.version_id: list(row.findings or [])
        for row in conn.execute(
            select(scans.c.version_id, scans.c.findings).where(scans.c.id.in_(newest))
        )
    }


def all_findings(conn: Connection, version_ids: Iterable[int]) -> list[Any]:
    """Every finding of every scan of the versions (old scans included)."""
    found: list[Any] = []
    for findings in conn.execute(
        select(scans.c.findings).where(scans.c.version_id.in_(list(version_ids)))
    ).scalars():
        found.extend(findings or [])
    return found


_LATEST_SCANS = (
    select(
        pv.c.id.label("version_id"),
        scans.c.id.label("scan_id"),
        scans.c.status,
        scans.c.database_updated_at,
    )
    .select_from(pv)
    .outerjoin(
        scans,
        scans.c.id
        == select(func.max(scans.c.id))
        .where(scans.c.version_id == pv.c.id)
        .correlate(pv)
        .scalar_subquery(),
    )
    .where(pv.c.ecosystem == bindparam("ecosystem"))
)


def refresh_stale_scans(conn: Connection, trigger: str) -> tuple[int, int]:
    """Bring every version's newest scan to the database's current state; (re-scans, confirmed).

    A finished scan records the state of its ecosystem's data it was made
    against (``database_updated_at``, the newest ``modified``). After an import,
    every version whose newest scan saw another state is dealt with, so that no
    status speaks of data that is no longer there:

    - a ``passed`` or ``failed`` scan of a package that no new or changed record
      names (those were queued for a re-scan and are ``pending``) has the same
      findings against the new data, since a version's findings come only from
      the records indexed under its package: it is confirmed, its
      ``database_updated_at`` set to the current state;
    - a version never scanned, or whose scan is ``not_scanned`` (no data of its
      ecosystem then) or ``error``, is queued for a re-scan.
    """
    rescans = confirmed = 0
    for state in vulndb.database_states(conn).values():
        rescan: list[int] = []
        confirm: list[int] = []
        for row in conn.execute(_LATEST_SCANS, {"ecosystem": state.ecosystem}):
            if row.status == "pending" or row.database_updated_at == state.newest_modified:
                continue
            if row.status in ("passed", "failed") and row.database_updated_at is not None:
                confirm.append(row.scan_id)
            else:
                rescan.append(row.version_id)
        for start in range(0, len(confirm), 500):
            conn.execute(
                update(scans)
                .where(scans.c.id.in_(confirm[start : start + 500]))
                .values(database_updated_at=state.newest_modified)
            )
        if rescan:
            request_rescans(conn, rescan, trigger=trigger)
        rescans += len(rescan)
        confirmed += len(confirm)
    return rescans, confirmed


#: What a vulnerability import asks of the scans (``vulns.service.import_records``).
IMPORT_RESCANS = vulndb.Rescans(of_packages=rescan_packages, refresh=refresh_stale_scans)


def count_in_error(conn: Connection) -> int:
    """How many scans ended in ``error`` (read from the status index; a /metrics gauge)."""
    return int(
        conn.execute(
            select(func.count()).select_from(scans).where(scans.c.status == "error")
        ).scalar_one()
    )
