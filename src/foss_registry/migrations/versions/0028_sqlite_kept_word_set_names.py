"""SQLite keeps the names of a word set that few names have, so its page is read, not walked.

A search of several words reads the names described by its rarest word in
name order and keeps those whose descriptions have every other word, until
the page is full. When few names have them all (``jsonrest httpzen``: 28
versions at a million, of the 6,104 described by "jsonrest") the page never
fills and the search reads every name of the rarest word: 1,526 names, 1.4 ms
of one thread, 79-89 ms p99 at ``wrk -c32``. The set's counts were kept
already (migration 0016); now its names are too, when they are few (0.19 ms):

``package_word_sets.names``
    1 when the set's names are kept: it had at most
    ``word_sets.MAX_KEPT_NAMES`` names when it was counted. 0 for a set with
    more, whose walk fills a page after a few names (``library for``).

``package_word_set_names``
    per set whose names are kept, each name having a version whose description
    has every word, with those versions per status. Kept in step by triggers
    beside the set's totals.

``ix_package_word_set_names_ecosystem``
    a set's names per ecosystem, in name order.

The sets kept so far are forgotten: each is kept again at its next search
(seconds for a common set at a million versions), with its names if few.
PostgreSQL needs none of it: its GIN index gathers the names of rarer words
(``search_postgres``).

Revision ID: 0028
Revises: 0027
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

# The kept sets whose names are kept that a row's description holds (as in migration 0016).
_SETS = (
    "SELECT s.words FROM package_word_sets s WHERE s.names AND s.rarest IN "
    "(SELECT value FROM json_each(foss_description_words({row}.description))) "
    "AND foss_has_words({row}.description, s.words)"
)
_COUNT_NAME = (
    "INSERT INTO package_word_set_names(words, normalized_name, ecosystem, pending, approved, "
    "rejected) SELECT words, {row}.normalized_name, {row}.ecosystem, "
    "({row}.status = 'pending') * {delta}, ({row}.status = 'approved') * {delta}, "
    "({row}.status = 'rejected') * {delta} FROM ({sets}) WHERE true "
    "ON CONFLICT(words, normalized_name, ecosystem) DO UPDATE SET "
    "pending = pending + excluded.pending, approved = approved + excluded.approved, "
    "rejected = rejected + excluded.rejected"
)
# A name leaves a set's rows with its last version that has the set's words.
_FORGET_NAME = (
    "DELETE FROM package_word_set_names WHERE (words, normalized_name, ecosystem) IN "
    "(SELECT words, old.normalized_name, old.ecosystem FROM ({sets})) "
    "AND pending = 0 AND approved = 0 AND rejected = 0"
).format(sets=_SETS.format(row="old"))
_ADD = _COUNT_NAME.format(row="new", delta=1, sets=_SETS.format(row="new"))
_REMOVE = _COUNT_NAME.format(row="old", delta=-1, sets=_SETS.format(row="old"))
_TRIGGERS = {
    "ai": f"AFTER INSERT ON package_versions BEGIN {_ADD}; END",
    "ad": f"AFTER DELETE ON package_versions BEGIN {_REMOVE}; {_FORGET_NAME}; END",
    "au": (
        "AFTER UPDATE OF description, normalized_name, ecosystem, status ON package_versions "
        f"BEGIN {_REMOVE}; {_FORGET_NAME}; {_ADD}; END"
    ),
}


def _forget_kept_sets() -> None:
    op.execute("DELETE FROM package_word_set_totals")
    op.execute("DELETE FROM package_word_sets")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _forget_kept_sets()
    op.execute("ALTER TABLE package_word_sets ADD COLUMN names INTEGER NOT NULL DEFAULT 0")
    op.execute(
        "CREATE TABLE package_word_set_names (words TEXT NOT NULL, normalized_name TEXT NOT NULL, "
        "ecosystem TEXT NOT NULL, pending INTEGER NOT NULL, approved INTEGER NOT NULL, "
        "rejected INTEGER NOT NULL, PRIMARY KEY (words, normalized_name, ecosystem)) "
        "WITHOUT ROWID"
    )
    op.execute(
        "CREATE INDEX ix_package_word_set_names_ecosystem ON package_word_set_names "
        "(words, ecosystem, normalized_name)"
    )
    for suffix, body in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER package_word_set_names_{suffix} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for suffix in _TRIGGERS:
        op.execute(f"DROP TRIGGER package_word_set_names_{suffix}")
    op.execute("DROP TABLE package_word_set_names")
    _forget_kept_sets()
    op.execute("ALTER TABLE package_word_sets DROP COLUMN names")
