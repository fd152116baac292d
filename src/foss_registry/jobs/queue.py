"""The job queue on the ``jobs`` table: enqueue, claim with a lease, finish, retry, park.

Jobs are enqueued in the same transaction as the change that causes them, so
a submission and its scan job commit or vanish together. Workers claim one job
at a time with a lease: a worker killed mid-job leaves the job to be claimed
again once the lease expires. On PostgreSQL the claim uses ``FOR UPDATE SKIP
LOCKED`` so several workers on several machines never take the same job; on
SQLite a single ``UPDATE ... RETURNING`` under the write lock does the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from foss_registry.config import get_settings
from foss_registry.db import dump_json, plain_sql, row_dict, sql_timestamp, utcnow
from foss_registry.jobs.models import jobs, worker_heartbeats


@dataclass(frozen=True)
class Job:
    """A claimed job: what to do, with what, and how many times it has been tried."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


_ENQUEUE_SQL = (
    "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_after, created_at) "
    "VALUES (:kind, :payload, 'queued', 0, :max_attempts, :run_after, :now) RETURNING id"
)


def enqueue(
    conn: Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    max_attempts: int | None = None,
    delay_seconds: float = 0,
) -> int:
    """Add a job to the queue in the caller's transaction and return its id.

    ``max_attempts`` defaults to ``FOSS_JOB_MAX_ATTEMPTS``; a job with
    ``delay_seconds`` is not claimed before that time has passed.
    """
    if max_attempts is None:
        max_attempts = get_settings().job_max_attempts
    # Plain SQL: every submission enqueues a scan, and compiling the statement
    # would cost more than running it.
    now = utcnow()
    rows = plain_sql(
        conn,
        _ENQUEUE_SQL,
        {
            "kind": kind,
            "payload": dump_json(payload),
            "max_attempts": max_attempts,
            "now": sql_timestamp(conn, now),
            "run_after": sql_timestamp(conn, now + timedelta(seconds=delay_seconds)),
        },
    )
    return int(rows[0][0])


def _claimable(now: Any) -> Any:
    return or_(
        and_(jobs.c.status == "queued", jobs.c.run_after <= now),
        # An expired lease means the worker that held it died.
        and_(jobs.c.status == "running", jobs.c.locked_until < now),
    )


def claim(conn: Connection, worker_id: str, lease_seconds: int) -> Job | None:
    """Claim the oldest runnable job for ``worker_id``; None if there is none."""
    now = utcnow()
    candidate = select(jobs.c.id).where(_claimable(now)).order_by(jobs.c.id).limit(1)
    if conn.dialect.name == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    row = conn.execute(
        update(jobs)
        .where(jobs.c.id == candidate.scalar_subquery(), _claimable(now))
        .values(
            status="running",
            attempts=jobs.c.attempts + 1,
            locked_by=worker_id,
            locked_until=now + timedelta(seconds=lease_seconds),
        )
        .returning(jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts, jobs.c.max_attempts)
    ).first()
    if row is None:
        return None
    return Job(
        id=row.id,
        kind=row.kind,
        payload=dict(row.payload),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
    )


def complete(conn: Connection, job: Job, worker_id: str) -> bool:
    """Mark a job done if this worker still holds it; False if the lease was lost."""
    result = conn.execute(
        update(jobs)
        .where(jobs.c.id == job.id, jobs.c.locked_by == worker_id, jobs.c.status == "running")
        .values(status="done", finished_at=utcnow(), locked_until=None, last_error=None)
    )
    return result.rowcount == 1


def fail(conn: Connection, job: Job, worker_id: str, error: str) -> str:
    """Record a failed attempt: retry later with backoff, or park the job as failed.

    Returns the job's new status (``queued`` or ``failed``).
    """
    now = utcnow()
    if job.attempts >= job.max_attempts:
        status, values = "failed", {"finished_at": now}
    else:
        # Exponential backoff so a job failing on a transient error does not spin.
        status, values = "queued", {"run_after": now + timedelta(seconds=2**job.attempts)}
    conn.execute(
        update(jobs)
        .where(jobs.c.id == job.id, jobs.c.locked_by == worker_id)
        .values(status=status, locked_until=None, locked_by=None, last_error=error[:4000], **values)
    )
    return status


def release(conn: Connection, job: Job, worker_id: str) -> None:
    """Give a claimed job back untouched (on shutdown), without counting the attempt."""
    conn.execute(
        update(jobs)
        .where(jobs.c.id == job.id, jobs.c.locked_by == worker_id, jobs.c.status == "running")
        .values(status="queued", locked_until=None, locked_by=None, attempts=jobs.c.attempts - 1)
    )


def heartbeat(conn: Connection, worker_id: str) -> None:
    """Record that a worker is alive (for ``/readyz``)."""
    now = utcnow()
    updated = conn.execute(
        update(worker_heartbeats)
        .where(worker_heartbeats.c.worker_id == worker_id)
        .values(seen_at=now)
    ).rowcount
    if not updated:
        conn.execute(worker_heartbeats.insert().values(worker_id=worker_id, seen_at=now))


def worker_status(conn: Connection, stale_seconds: float) -> dict[str, Any]:
    """Return how many workers sent a heartbeat within ``stale_seconds`` and the newest's age."""
    now = utcnow()
    newest = conn.execute(select(func.max(worker_heartbeats.c.seen_at))).scalar()
    recent = conn.execute(
        select(func.count()).where(
            worker_heartbeats.c.seen_at >= now - timedelta(seconds=stale_seconds)
        )
    ).scalar_one()
    if newest is not None and newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    return {
        "recent": int(recent),
        "last_seen_seconds_ago": None
        if newest is None
        else round(max(0.0, (now - newest).total_seconds()), 1),
    }


def stats(conn: Connection) -> dict[str, Any]:
    """Return queue depth per status and the age in seconds of the oldest queued job."""
    counts: dict[str, int] = {
        status: count
        for status, count in conn.execute(
            select(jobs.c.status, func.count()).group_by(jobs.c.status)
        )
    }
    oldest = conn.execute(
        select(func.min(jobs.c.created_at)).where(jobs.c.status == "queued")
    ).scalar()
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return {
        "counts": {s: int(counts.get(s, 0)) for s in ("queued", "running", "done", "failed")},
        "oldest_queued_age_seconds": age,
    }


def failed_jobs(conn: Connection, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Return parked failed jobs with their last error, newest first (admin view)."""
    rows = conn.execute(
        select(
            jobs.c.id,
            jobs.c.kind,
            jobs.c.payload,
            jobs.c.attempts,
            jobs.c.last_error,
            jobs.c.created_at,
            jobs.c.finished_at,
        )
        .where(jobs.c.status == "failed")
        .order_by(jobs.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [row_dict(r) for r in rows]
