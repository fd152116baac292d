"""Upstream facts and risk signals of each version (``upstream_records``).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from foss_registry.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_records",
        sa.Column(
            "version_id",
            sa.Integer,
            sa.ForeignKey("package_versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("source", sa.String(2048)),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("facts", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("signals", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("upstream_records")
