"""The ``approval_rules`` table: a range of one package's versions a reviewer approved."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from foss_registry.db import UTCDateTime, metadata

approval_rules = Table(
    "approval_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ecosystem", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("normalized_name", String(255), nullable=False),
    # The range in the ecosystem's own syntax, normalised.
    Column("range", String(512), nullable=False),
    Column("comment", Text),
    Column("apply_to_existing", Boolean, nullable=False, default=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("ended_by", String(255)),
    Column("ended_at", UTCDateTime),
    Index("ix_approval_rules_package", "ecosystem", "normalized_name"),
)
