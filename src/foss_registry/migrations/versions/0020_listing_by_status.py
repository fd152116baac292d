"""Listings filtered by status read one index in page order, without the versions' rows.

``ix_package_versions_status_name`` holds ``(status, normalized_name, ecosystem,
sort_token DESC, id DESC)``: a listing filtered by status (the catalogue's and a
CI dashboard's filter, with or without an ecosystem) walks it in the listing's
order and passes over the rows before its offset inside the index, so page 100
of a filter costs a walk of an index, not thousands of reads of whole rows
(packages/search.py reads the page's ids first, then only those rows).

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_package_versions_status_name",
        "package_versions",
        ["status", "normalized_name", "ecosystem", sa.text("sort_token DESC"), sa.text("id DESC")],
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.execute(
        sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
    ).first():
        # Where the planner has statistics (`foss db optimize`), an index without them
        # looks ten thousand times more selective than it is: the review queue (status,
        # oldest first) took it and sorted every pending version. Counted now.
        bind.execute(sa.text("ANALYZE ix_package_versions_status_name"))


def downgrade() -> None:
    op.drop_index("ix_package_versions_status_name", table_name="package_versions")
