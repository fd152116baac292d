"""The ``triage`` table: a decision about one advisory for one package's versions."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from foss_registry.db import UTCDateTime, metadata

TRIAGE_STATES = ("not_affected", "accepted_risk", "false_positive")

triage = Table(
    "triage",
    metadata,
    Column("id", Integer, primary_key=True),
    # The advisory id or alias as given; findings match it by id or any alias.
    Column("advisory", String(128), nullable=False),
    Column("ecosystem", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("normalized_name", String(255), nullable=False),
    # Normalised range in the ecosystem's syntax; None: every version.
    Column("range", String(512)),
    Column("state", String(32), nullable=False),
    Column("justification", String(64)),
    Column("comment", Text),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("ended_by", String(255)),
    Column("ended_at", UTCDateTime),
    # When the expiry (or the end) was acted on: flags set, events written.
    Column("lapse_handled_at", UTCDateTime),
    Index("ix_triage_package", "ecosystem", "normalized_name"),
)
