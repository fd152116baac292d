"""Job priorities: a due job of higher priority is claimed before a backlog of others.

``jobs.priority`` (a lower number first; 100 for every job so far); the claim
index becomes ``(status, priority, id)``, the order in which workers take jobs.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="100")
        )
        batch.drop_index("ix_jobs_claim")
        batch.create_index("ix_jobs_claim", ["status", "priority", "id"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_claim")
        batch.create_index("ix_jobs_claim", ["status", "run_after", "id"])
        batch.drop_column("priority")
