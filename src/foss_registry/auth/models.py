"""The ``api_tokens`` table: hashed API tokens with a name, a role and a lifetime."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, text

from foss_registry.db import UTCDateTime, metadata

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    # SHA-256 of the secret; the secret itself is never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    # A short non-secret prefix so people can tell tokens apart in listings.
    Column("prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Index(
        "uq_api_tokens_active_name",
        "name",
        unique=True,
        sqlite_where=text("revoked_at IS NULL"),
        postgresql_where=text("revoked_at IS NULL"),
    ),
)

#: Signed-in (and about-to-sign-in) browser sessions of the web pages, shared by every
#: server process. The session id is kept only as a SHA-256 hash, like a token; the
#: API token a session was opened with is kept as its stored hash, never the secret.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("csrf_token", String(64), nullable=False),
    # None until signed in (a session that only carries the sign-in form's CSRF token).
    Column("token_hash", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Index("ix_web_sessions_token_hash", "token_hash"),
    Index("ix_web_sessions_last_seen_at", "last_seen_at"),
)
