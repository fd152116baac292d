"""Scans given up after their job's last attempt: how many attempts, and an index by status.

A scan whose job was parked as failed ends in ``error`` with the reason and
the number of attempts (``scans.attempts``) instead of staying ``pending``;
``/metrics`` counts the scans in error through ``ix_scans_status``.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=True))
    op.create_index("ix_scans_status", "scans", ["status"])


def downgrade() -> None:
    op.drop_index("ix_scans_status", table_name="scans")
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("attempts")
