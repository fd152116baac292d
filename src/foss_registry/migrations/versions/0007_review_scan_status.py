"""Review history: the scan status a decision was made on and the findings it acknowledged.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from foss_registry.db import json_type

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scan_status", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("acknowledged", json_type(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_column("acknowledged")
        batch_op.drop_column("scan_status")
