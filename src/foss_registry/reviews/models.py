"""The ``reviews`` table: every decision ever made on a version, by a person or the policy."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from foss_registry.db import UTCDateTime, json_type, metadata

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "version_id",
        Integer,
        ForeignKey("package_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("decision", String(16), nullable=False),
    Column("by", String(255), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("comment", Text),
    # Why an automatic decision was made (rule, finding, license term); empty for people.
    Column("reasons", json_type(), nullable=False, default=list),
    # The version's scan status when the decision was made (null before migration 0007).
    Column("scan_status", String(16)),
    # Ids of the open findings an approval acknowledged ("acknowledge_findings").
    Column("acknowledged", json_type(), nullable=False, default=list, server_default="[]"),
    Index("ix_reviews_version_id", "version_id", "id"),
)
