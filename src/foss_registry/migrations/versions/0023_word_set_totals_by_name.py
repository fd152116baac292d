"""SQLite's kept word sets count apart the versions whose name contains the set's rarest word.

``package_word_set_totals`` (migrations 0016 and 0017) gains ``in_name``: 1
for the versions whose ``lower(normalized_name)`` contains the set's rarest
word (as ``package_description_words.in_name`` tells for a word), 0 for the
others. For a set of one word, the versions in a status described by that
word whose name does not contain it are then one read; a search of one word
with a status filter (``jsonrest&status=approved``) no longer reads the names
that contain the word and whose descriptions have it, with their versions per
status (and, where only some versions have the word, their descriptions), to
take them off the set's count. There are few in the benchmark's catalogue (12
for ``jsonrest``), whose descriptions rarely repeat a name's words; a name
like ``json-parser`` described as a JSON parser is the rule in a real one.

The totals kept so far have no such split: every kept set is forgotten, and
kept again (counted anew, in the background) when next searched for.

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# The kept word sets a row's description holds (as in migration 0016), with whether
# its name contains the set's rarest word.
_SETS = (
    "SELECT s.words, instr(lower({row}.normalized_name), s.rarest) > 0 AS in_name "
    "FROM package_word_sets s WHERE s.rarest IN "
    "(SELECT value FROM json_each(foss_description_words({row}.description))) "
    "AND foss_has_words({row}.description, s.words)"
)
_ADD = (
    "INSERT INTO package_word_set_totals(words, in_name, ecosystem, status, versions) "
    "SELECT words, in_name, new.ecosystem, new.status, 1 FROM ({sets}) WHERE true "
    "ON CONFLICT(words, in_name, ecosystem, status) DO UPDATE SET versions = versions + 1"
).format(sets=_SETS.format(row="new"))
# A set being counted may have no row yet (migration 0017).
_REMOVE = (
    "INSERT INTO package_word_set_totals(words, in_name, ecosystem, status, versions) "
    "SELECT words, in_name, old.ecosystem, old.status, -1 FROM ({sets}) WHERE true "
    "ON CONFLICT(words, in_name, ecosystem, status) DO UPDATE SET versions = versions - 1"
).format(sets=_SETS.format(row="old"))

# Migration 0017's triggers, for the downgrade.
_OLD_SETS = (
    "SELECT s.words FROM package_word_sets s WHERE s.rarest IN "
    "(SELECT value FROM json_each(foss_description_words({row}.description))) "
    "AND foss_has_words({row}.description, s.words)"
)
_OLD_ADD = (
    "INSERT INTO package_word_set_totals(words, ecosystem, status, versions) "
    "SELECT words, new.ecosystem, new.status, 1 FROM ({sets}) WHERE true "
    "ON CONFLICT(words, ecosystem, status) DO UPDATE SET versions = versions + 1"
).format(sets=_OLD_SETS.format(row="new"))
_OLD_REMOVE = (
    "INSERT INTO package_word_set_totals(words, ecosystem, status, versions) "
    "SELECT words, old.ecosystem, old.status, -1 FROM ({sets}) WHERE true "
    "ON CONFLICT(words, ecosystem, status) DO UPDATE SET versions = versions - 1"
).format(sets=_OLD_SETS.format(row="old"))


def _rebuild(by_name: bool) -> None:
    """Forget every kept set and make the totals table and its triggers anew."""
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER package_word_set_totals_{suffix}")
    op.execute("DROP TABLE package_word_set_totals")
    op.execute("DELETE FROM package_word_sets")
    in_name = "in_name INTEGER NOT NULL, " if by_name else ""
    key = "words, in_name, ecosystem, status" if by_name else "words, ecosystem, status"
    op.execute(
        f"CREATE TABLE package_word_set_totals (words TEXT NOT NULL, {in_name}"
        "ecosystem TEXT NOT NULL, status TEXT NOT NULL, versions INTEGER NOT NULL, "
        f"PRIMARY KEY ({key})) WITHOUT ROWID"
    )
    add, remove = (_ADD, _REMOVE) if by_name else (_OLD_ADD, _OLD_REMOVE)
    # A version's name decides in_name now: a change of name changes its row too.
    name = "normalized_name, " if by_name else ""
    op.execute(
        f"CREATE TRIGGER package_word_set_totals_ai AFTER INSERT ON package_versions "
        f"BEGIN {add}; END"
    )
    op.execute(
        f"CREATE TRIGGER package_word_set_totals_ad AFTER DELETE ON package_versions "
        f"BEGIN {remove}; END"
    )
    op.execute(
        f"CREATE TRIGGER package_word_set_totals_au AFTER UPDATE OF description, {name}"
        f"ecosystem, status ON package_versions BEGIN {remove}; {add}; END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild(by_name=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild(by_name=False)
