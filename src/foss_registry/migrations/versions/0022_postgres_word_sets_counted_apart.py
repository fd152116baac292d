"""PostgreSQL adds a kept word set without holding writes off while it is counted.

``foss_keep_word_set`` (migration 0019) added a set and counted its versions
under a ``SHARE`` lock on ``package_versions``: every submission waited for
the count, 4-11 s at a million versions. The set is now added by
:mod:`foss_registry.packages.postgres_word_sets` under the lock only while
its row is written, and counted in a snapshot taken before that commit, as
SQLite's sets are (migration 0017): ``package_word_sets.counting`` holds the
token of the count under way, and searches use a set's totals only once it is
NULL.

Revision ID: 0022
Revises: 0021
"""

from alembic import op

from foss_registry.migrations.revisions import load_revision

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("ALTER TABLE package_word_sets ADD COLUMN counting text")
    op.execute("DROP FUNCTION foss_keep_word_set(text, text[], text, integer)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    # A set still being counted has no exact totals: it goes, to be kept again.
    op.execute(
        "DELETE FROM package_word_set_totals WHERE words IN "
        "(SELECT words FROM package_word_sets WHERE counting IS NOT NULL)"
    )
    op.execute("DELETE FROM package_word_sets WHERE counting IS NOT NULL")
    op.execute("ALTER TABLE package_word_sets DROP COLUMN counting")
    op.execute(load_revision("0019_postgres_search_counts.py")._KEEP_WORD_SET)
