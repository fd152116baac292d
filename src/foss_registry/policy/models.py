"""The ``policy_documents`` table: every license policy set through the admin API."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table

from foss_registry.db import UTCDateTime, json_type, metadata

policy_documents = Table(
    "policy_documents",
    metadata,
    Column("id", Integer, primary_key=True),
    # None means "back to the file or the default" (a DELETE through the API).
    Column("document", json_type()),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
