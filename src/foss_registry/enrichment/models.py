"""The ``upstream_records`` table: one row per enriched version, replaced at each enrichment."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text

from foss_registry.db import UTCDateTime, json_type, metadata

upstream_records = Table(
    "upstream_records",
    metadata,
    Column(
        "version_id",
        Integer,
        ForeignKey("package_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # ok, not_found, unavailable or not_configured (no row: pending, or not configured).
    Column("status", String(16), nullable=False),
    # Why the upstream was unavailable (a sentence), else null.
    Column("reason", Text),
    Column("source", String(2048)),
    Column("fetched_at", UTCDateTime, nullable=False),
    # The record's remaining fields, as GET /packages/{name} shows them under "upstream".
    Column("facts", json_type(), nullable=False),
    Column("signals", json_type(), nullable=False),
    # Enrichments in a row that found the upstream unavailable (spaces the retries).
    Column("failures", Integer, nullable=False, default=0),
)
