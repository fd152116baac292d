"""SQLite counts a new kept word set from a read snapshot, without holding the write lock.

Keeping a word set (migration 0016) counted every version that has its words
inside one write transaction: about 11 s of the write lock at a million
versions, during which every submission and decision waited. Now a set is
added with ``package_word_sets.counting`` set (a token naming the count under
way) in a transaction that writes nothing else; from that commit on the
triggers add the changes of every later write to ``package_word_set_totals``
as before, while the versions as they were at that commit are counted from a
read snapshot, and a second short transaction adds that count and clears
``counting`` (``packages/word_sets.py``). A set whose ``counting`` is set is
not used by searches.

While a set is being counted its totals hold only the changes since the
snapshot, which may be below zero: the triggers that take a version away now
insert -1 where no row exists yet (before, the row always existed).

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The kept word sets a row's description holds (as in migration 0016).
_SETS = (
    "SELECT s.words FROM package_word_sets s WHERE s.rarest IN "
    "(SELECT value FROM json_each(foss_description_words({row}.description))) "
    "AND foss_has_words({row}.description, s.words)"
)
_ADD_SETS = (
    "INSERT INTO package_word_set_totals(words, ecosystem, status, versions) "
    f"SELECT words, new.ecosystem, new.status, 1 FROM ({_SETS.format(row='new')}) WHERE true "
    "ON CONFLICT(words, ecosystem, status) DO UPDATE SET versions = versions + 1"
)
_REMOVE_SETS = {
    # 0016: only a row that exists is lowered.
    False: (
        "UPDATE package_word_set_totals SET versions = versions - 1 "
        "WHERE ecosystem = old.ecosystem AND status = old.status "
        f"AND words IN ({_SETS.format(row='old')})"
    ),
    # 0017: a set being counted may have no row yet.
    True: (
        "INSERT INTO package_word_set_totals(words, ecosystem, status, versions) "
        f"SELECT words, old.ecosystem, old.status, -1 FROM ({_SETS.format(row='old')}) "
        "WHERE true ON CONFLICT(words, ecosystem, status) DO UPDATE SET versions = versions - 1"
    ),
}


def _triggers(counted_aside: bool) -> None:
    remove = _REMOVE_SETS[counted_aside]
    op.execute("DROP TRIGGER package_word_set_totals_ad")
    op.execute("DROP TRIGGER package_word_set_totals_au")
    op.execute(
        "CREATE TRIGGER package_word_set_totals_ad AFTER DELETE ON package_versions "
        f"BEGIN {remove}; END"
    )
    op.execute(
        "CREATE TRIGGER package_word_set_totals_au AFTER UPDATE OF description, ecosystem, "
        f"status ON package_versions BEGIN {remove}; {_ADD_SETS}; END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("ALTER TABLE package_word_sets ADD COLUMN counting TEXT")
    _triggers(counted_aside=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # A set still being counted has no exact totals.
    op.execute(
        "DELETE FROM package_word_set_totals WHERE words IN "
        "(SELECT words FROM package_word_sets WHERE counting IS NOT NULL)"
    )
    op.execute("DELETE FROM package_word_sets WHERE counting IS NOT NULL")
    _triggers(counted_aside=False)
    op.execute("ALTER TABLE package_word_sets DROP COLUMN counting")
