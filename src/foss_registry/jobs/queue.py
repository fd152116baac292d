"""The job queue on the ``jobs`` table: enqueue, claim in batches with a lease, finish, retry, park.

Jobs are enqueued in the same transaction as the change that causes them, so
a submission and its scan job commit or vanish together. Workers claim jobs
with a lease, several of one kind at a time (a batch): a worker killed in the
middle of a batch leaves its jobs to be claimed again once the lease expires,
and nothing of the batch's work is stored (it commits in one transaction with
the batch's completion). Among the jobs due, the lowest ``priority`` number is
taken first, then the oldest. On PostgreSQL the claim uses ``FOR UPDATE SKIP
LOCKED`` so several workers on several machines never take the same job, and
every enqueue notifies the idle workers (``LISTEN`` on :data:`CHANNEL`); on
SQLite the claim runs under the database's one write lock.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from foss_registry.config import get_settings
from foss_registry.db import dump_json, iso, plain_sql, sql_timestamp, utcnow
from foss_registry.jobs.models import jobs, worker_heartbeats
from foss_registry.jobs.records import FailedJob, FailedJobList

#: The PostgreSQL notification channel an enqueue signals (delivered on commit).
CHANNEL = "foss_jobs"
#: Jobs are claimed lowest priority number first: the default, and work someone
#: outside waits on (a webhook receiver), claimed before any backlog of the rest.
DEFAULT_PRIORITY = 100
PROMPT = 10


@dataclass(frozen=True)
class Job:
    """A claimed job: what to do, with what, and how many times it has been tried."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


_ENQUEUE_SQL = (
    "INSERT INTO jobs (kind, payload, priority, status, attempts, max_attempts, run_after, "
    "created_at) VALUES (:kind, :payload, :priority, 'queued', 0, :max_attempts, :run_after, :now) "
    "RETURNING id"
)
# PostgreSQL: the same insert wakes the listening workers in the same round trip
# (notifications are sent on commit, once per transaction).
_ENQUEUE_NOTIFY_SQL = (
    f"WITH job AS ({_ENQUEUE_SQL}) SELECT job.id FROM job, pg_notify('{CHANNEL}', '') AS woken"
)


def enqueue(
    conn: Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    max_attempts: int | None = None,
    delay_seconds: float = 0,
    priority: int = DEFAULT_PRIORITY,
) -> int:
    """Add a job to the queue in the caller's transaction and return its id.

    ``max_attempts`` defaults to ``FOSS_JOB_MAX_ATTEMPTS``; a job with
    ``delay_seconds`` is not claimed before that time has passed; among the
    jobs due, those of lower ``priority`` are claimed first (see :data:`PROMPT`).
    """
    if max_attempts is None:
        max_attempts = get_settings().job_max_attempts
    # Plain SQL: every submission enqueues a scan, and compiling the statement
    # would cost more than running it.
    now = utcnow()
    rows = plain_sql(
        conn,
        _ENQUEUE_NOTIFY_SQL if conn.dialect.name == "postgresql" else _ENQUEUE_SQL,
        {
            "kind": kind,
            "payload": dump_json(payload),
            "priority": priority,
            "max_attempts": max_attempts,
            "now": sql_timestamp(conn, now),
            "run_after": sql_timestamp(conn, now + timedelta(seconds=delay_seconds)),
        },
    )
    return int(rows[0][0])


def _due(conn: Connection, now: Any, limit: int, kind: str | None) -> list[tuple[int, str]]:
    """Up to ``limit`` claimable jobs in claim order: abandoned ones first, then the queued."""
    found: list[tuple[int, str]] = []
    for status, due in (
        # An expired lease means the worker that held it died.
        ("running", jobs.c.locked_until < now),
        ("queued", jobs.c.run_after <= now),
    ):
        query = (
            select(jobs.c.id, jobs.c.kind)
            .where(jobs.c.status == status, due)
            .order_by(jobs.c.priority, jobs.c.id)
            .limit(limit - len(found))
        )
        if kind is not None:
            query = query.where(jobs.c.kind == kind)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        found.extend((row.id, row.kind) for row in conn.execute(query))
        if len(found) == limit:
            break
    return found


def claim_batch(
    conn: Connection, worker_id: str, lease_seconds: int, batch: Mapping[str, int] | None = None
) -> list[Job]:
    """Claim the next runnable job and up to ``batch[kind]`` jobs of its kind; [] if none is due.

    The jobs come in claim order (priority, then age) and share one lease.
    """
    now = utcnow()
    head = _due(conn, now, 1, None)
    if not head:
        return []
    kind = head[0][1]
    size = max(1, (batch or {}).get(kind, 1))
    # On PostgreSQL the head is locked by this transaction, so it is found again.
    picked = head if size == 1 else _due(conn, now, size, kind)
    rows = conn.execute(
        update(jobs)
        .where(jobs.c.id.in_([job_id for job_id, _ in picked]))
        .values(
            status="running",
            attempts=jobs.c.attempts + 1,
            locked_by=worker_id,
            locked_until=now + timedelta(seconds=lease_seconds),
        )
        .returning(jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts, jobs.c.max_attempts)
    ).all()
    order = {job_id: n for n, (job_id, _) in enumerate(picked)}
    return [
        Job(
            id=row.id,
            kind=row.kind,
            payload=dict(row.payload),
            attempts=row.attempts,
            max_attempts=row.max_attempts,
        )
        for row in sorted(rows, key=lambda r: order[r.id])
    ]


def claim(conn: Connection, worker_id: str, lease_seconds: int) -> Job | None:
    """Claim the next runnable job alone for ``worker_id``; None if there is none."""
    claimed = claim_batch(conn, worker_id, lease_seconds)
    return claimed[0] if claimed else None


def _held(job_ids: Collection[int], worker_id: str) -> Any:
    return and_(
        jobs.c.id.in_(list(job_ids)), jobs.c.locked_by == worker_id, jobs.c.status == "running"
    )


def renew(
    conn: Connection, job_ids: Collection[int], worker_id: str, lease_seconds: int
) -> set[int]:
    """Extend the lease of the jobs this worker still holds; return their ids.

    A job missing from the answer was taken over after its lease expired. In a
    transaction, the renewed rows stay locked until it ends (PostgreSQL; SQLite
    holds its write lock), so no other worker can take them over meanwhile.
    """
    if not job_ids:
        return set()
    rows = conn.execute(
        update(jobs)
        .where(_held(job_ids, worker_id))
        .values(locked_until=utcnow() + timedelta(seconds=lease_seconds))
        .returning(jobs.c.id)
    )
    return set(rows.scalars())


def complete_many(conn: Connection, job_ids: Sequence[int], worker_id: str) -> bool:
    """Mark jobs done if this worker still holds every one; False if a lease was lost."""
    if not job_ids:
        return True
    result = conn.execute(
        update(jobs)
        .where(_held(job_ids, worker_id))
        .values(status="done", finished_at=utcnow(), locked_until=None, last_error=None)
    )
    return result.rowcount == len(job_ids)


def complete(conn: Connection, job: Job, worker_id: str) -> bool:
    """Mark a job done if this worker still holds it; False if the lease was lost."""
    return complete_many(conn, [job.id], worker_id)


def next_due_seconds(conn: Connection) -> float | None:
    """Seconds until a job not due yet becomes claimable (a delayed one, an expiring lease).

    None when no job waits for the clock; 0 when one is due already.
    """
    queued = select(func.min(jobs.c.run_after)).where(jobs.c.status == "queued")
    leased = select(func.min(jobs.c.locked_until)).where(jobs.c.status == "running")
    times = [t for t in (conn.execute(queued).scalar(), conn.execute(leased).scalar()) if t]
    if not times:
        return None
    soonest = min(t if t.tzinfo else t.replace(tzinfo=UTC) for t in times)
    return max(0.0, (soonest - utcnow()).total_seconds())


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


def failed_jobs(conn: Connection, *, limit: int = 100, offset: int = 0) -> FailedJobList:
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
    return FailedJobList(
        jobs=[
            FailedJob(
                id=r.id,
                kind=r.kind,
                payload=r.payload,
                attempts=r.attempts,
                last_error=r.last_error,
                created_at=iso(r.created_at) or "",  # a column that is never null
                finished_at=iso(r.finished_at),
            )
            for r in rows
        ],
        limit=limit,
        offset=offset,
    )
