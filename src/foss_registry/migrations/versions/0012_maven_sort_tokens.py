"""Maven sort tokens written again, now ordered as Maven's ComparableVersion orders versions.

A zero or a release qualifier inside a version (``3.7.0.rc.3``,
``3.5.0.Beta-1``) was encoded as a number, so such versions sorted above the
release they precede; the tokens of every stored Maven version are computed
anew with the corrected encoding.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from foss_registry.ecosystems.maven import parse_version

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_versions = sa.table(
    "package_versions",
    sa.column("id", sa.Integer),
    sa.column("ecosystem", sa.String),
    sa.column("version", sa.String),
    sa.column("sort_token", sa.String),
)


def _rewrite() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_versions.c.id, _versions.c.version, _versions.c.sort_token).where(
            _versions.c.ecosystem == "maven"
        )
    ).all()
    changed = [
        {"b_id": row.id, "b_token": token}
        for row in rows
        if (token := parse_version(row.version).token) != row.sort_token
    ]
    if changed:
        conn.execute(
            _versions.update()
            .where(_versions.c.id == sa.bindparam("b_id"))
            .values(sort_token=sa.bindparam("b_token")),
            changed,
        )


def upgrade() -> None:
    _rewrite()


def downgrade() -> None:
    # The earlier encoding is not kept; the corrected tokens order the same versions.
    pass
