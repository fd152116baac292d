"""Web sessions, and the review queue's indexes.

``web_sessions`` keeps the browser sessions of the reviewer pages in the
database, so that every server process sees the same ones: the session id and
the API token it was opened with are stored as SHA-256 hashes only.

The review queue lists pending versions oldest first, overall or in one
ecosystem: two indexes answer a page of it without sorting every pending
version. The first, (status, submitted_at, id), also serves what the plain
status index did, so that one goes.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from foss_registry.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index("ix_web_sessions_token_hash", "web_sessions", ["token_hash"])
    op.create_index("ix_web_sessions_last_seen_at", "web_sessions", ["last_seen_at"])
    op.create_index(
        "ix_package_versions_queue", "package_versions", ["status", "submitted_at", "id"]
    )
    op.create_index(
        "ix_package_versions_queue_ecosystem",
        "package_versions",
        ["status", "ecosystem", "submitted_at", "id"],
    )
    op.drop_index("ix_package_versions_status", table_name="package_versions")


def downgrade() -> None:
    op.create_index("ix_package_versions_status", "package_versions", ["status"])
    op.drop_index("ix_package_versions_queue_ecosystem", table_name="package_versions")
    op.drop_index("ix_package_versions_queue", table_name="package_versions")
    op.drop_index("ix_web_sessions_last_seen_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_token_hash", table_name="web_sessions")
    op.drop_table("web_sessions")
