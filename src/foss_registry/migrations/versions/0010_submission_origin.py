"""Package versions: where a lockfile resolved the version from, and its integrity digest.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): the SQLite triggers on the table stay.
    op.add_column("package_versions", sa.Column("resolved", sa.String(length=2048), nullable=True))
    op.add_column("package_versions", sa.Column("integrity", sa.String(length=256), nullable=True))


def downgrade() -> None:
    op.drop_column("package_versions", "integrity")
    op.drop_column("package_versions", "resolved")
