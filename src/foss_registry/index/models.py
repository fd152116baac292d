"""The ``index_blocked`` table: every index request that enforce mode refuses (or would)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from foss_registry.db import UTCDateTime, metadata

index_blocked = Table(
    "index_blocked",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ecosystem", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("version", String(128), nullable=False),
    Column("file", String(512), nullable=False),
    # The status the version had: pending, rejected or not submitted.
    Column("status", String(16), nullable=False),
    # enforce (refused) or audit (served, recorded).
    Column("mode", String(8), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("client", String(64), nullable=False),
    Index("ix_index_blocked_at", "at", "id"),
)
