"""The ``package_versions`` table: one row per (ecosystem, normalised name, version)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from foss_registry.db import UTCDateTime, json_type, metadata, ordered_text

STATUSES = ("pending", "approved", "rejected")

package_versions = Table(
    "package_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ecosystem", String(16), nullable=False),
    # The name as the package was first submitted; later spellings map onto it.
    Column("name", String(255), nullable=False),
    Column("normalized_name", ordered_text(255), nullable=False),
    Column("version", String(128), nullable=False),
    Column("canonical_version", String(128), nullable=False),
    # Lexicographically ordered like the ecosystem's versions, so SQL can sort.
    Column("sort_token", ordered_text(512), nullable=False),
    Column("purl", String(1024), nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("license", String(1024)),
    Column("description", Text),
    Column("homepage", String(2048)),
    Column("repository", String(2048)),
    Column("justification", Text),
    Column("submitted_by", String(255), nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("approved_by", String(255)),
    Column("approved_at", UTCDateTime),
    Column("rejected_by", String(255)),
    Column("rejected_at", UTCDateTime),
    Column("rejection_reason", Text),
    Column("flags", json_type(), nullable=False, default=list),
    # Why the policy left the version pending (or decided it), shown to reviewers.
    Column("policy_reasons", json_type(), nullable=False, default=list),
    # Where a lockfile resolved the version from, and its digest (``sha512-...``), if sent.
    Column("resolved", String(2048)),
    Column("integrity", String(256)),
    UniqueConstraint("ecosystem", "normalized_name", "canonical_version"),
    Index("ix_package_versions_name_order", "normalized_name", "sort_token", "id"),
    # The review queue: pending versions oldest first, overall and per ecosystem.
    Index("ix_package_versions_queue", "status", "submitted_at", "id"),
    Index("ix_package_versions_queue_ecosystem", "status", "ecosystem", "submitted_at", "id"),
    Index("ix_package_versions_ecosystem_name", "ecosystem", "normalized_name"),
    # Migration 0020 adds ix_package_versions_status_name (status, normalized_name,
    # ecosystem, sort_token DESC, id DESC) for listings filtered by status.
)
