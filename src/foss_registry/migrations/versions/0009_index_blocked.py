"""The approved-only index records the requests it refuses (or, in audit mode, would refuse).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from foss_registry.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_blocked",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ecosystem", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("file", sa.String(512), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
    )
    op.create_index("ix_index_blocked_at", "index_blocked", ["at", "id"])


def downgrade() -> None:
    op.drop_index("ix_index_blocked_at", "index_blocked")
    op.drop_table("index_blocked")
