"""The ``scans`` table: every scan of a version, newest last (the history)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from foss_registry.db import UTCDateTime, json_type, metadata

SCAN_STATUSES = ("not_scanned", "pending", "passed", "failed", "error")

scans = Table(
    "scans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "version_id",
        Integer,
        ForeignKey("package_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("status", String(16), nullable=False),
    Column("reason", Text),
    Column("scan_date", UTCDateTime),
    Column("tools_used", json_type(), nullable=False, default=list),
    Column("findings", json_type(), nullable=False, default=list),
    Column("severity", json_type(), nullable=False, default=dict),
    # Newest `modified` of the vulnerability database when the scan ran.
    Column("database_updated_at", UTCDateTime),
    # What changed against the previous scan: finding ids added and removed.
    Column("changes", json_type()),
    Column("trigger", String(32), nullable=False, default="submission"),
    # Attempts of a scan job given up (status ``error``); null otherwise.
    Column("attempts", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_scans_version_id", "version_id", "id"),
    # Counting the scans in error (a /metrics gauge) reads this index alone.
    Index("ix_scans_status", "status"),
)
