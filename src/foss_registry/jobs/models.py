"""The ``jobs`` table (the queue) and ``worker_heartbeats`` (who is alive)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, SmallInteger, String, Table, Text

from foss_registry.db import UTCDateTime, json_type, metadata

JOB_STATUSES = ("queued", "running", "done", "failed")

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(64), nullable=False),
    # Among the jobs due, a lower number is claimed first (a webhook delivery
    # does not wait behind a backlog of scans); then the oldest.
    Column("priority", SmallInteger, nullable=False, default=100, server_default="100"),
    Column("payload", json_type(), nullable=False),
    Column("status", String(16), nullable=False, default="queued"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=5),
    Column("run_after", UTCDateTime, nullable=False),
    # A running job whose lease has expired is taken to be abandoned (worker killed).
    Column("locked_until", UTCDateTime),
    Column("locked_by", String(128)),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    # The claim walks the jobs of one status in the order it takes them.
    Index("ix_jobs_claim", "status", "priority", "id"),
)

worker_heartbeats = Table(
    "worker_heartbeats",
    metadata,
    Column("worker_id", String(128), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
)
