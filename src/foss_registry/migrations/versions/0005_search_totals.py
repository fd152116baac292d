"""What lets SQLite's search read less: word totals and the names with capitals.

``package_word_totals`` holds, per (word, in_name, ecosystem), the sum of the
version counts of ``package_description_words`` (migration 0004): how many
versions have the word in their description. A one-word search counts the
versions found by description with one read instead of a sum over every name
that has the word. Triggers on the words table keep it in step, so it follows
every change the triggers of ``package_versions`` make there.

A search's first names are those starting with the term, in name order. For a
name without capitals its row in ``package_name_suffixes`` (the whole name,
``earlier`` -1) has the name itself as suffix, so the table's own key, read from
the term on, lists those names in name order and the first page stops early.
A name with capitals (npm's legacy ``JSONStream``) is keyed by its lower-cased
form, which sorts elsewhere; a partial index holds only those rows, few in any
catalogue, so the search reads them all and merges them in.

PostgreSQL needs neither: its searches go through its GIN indexes.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TOTAL_OF = "word = {row}.word AND in_name = {row}.in_name AND ecosystem = {row}.ecosystem"
_TRIGGERS = {
    "ai": (
        "AFTER INSERT ON package_description_words BEGIN "
        "INSERT INTO package_word_totals(word, in_name, ecosystem, versions) "
        "VALUES (new.word, new.in_name, new.ecosystem, new.versions) "
        "ON CONFLICT(word, in_name, ecosystem) "
        "DO UPDATE SET versions = versions + excluded.versions; END"
    ),
    # The word, in_name and ecosystem of a row never change: only its count.
    "au": (
        "AFTER UPDATE OF versions ON package_description_words BEGIN "
        "UPDATE package_word_totals SET versions = versions + new.versions - old.versions "
        f"WHERE {_TOTAL_OF.format(row='new')}; END"
    ),
    "ad": (
        "AFTER DELETE ON package_description_words BEGIN "
        "UPDATE package_word_totals SET versions = versions - old.versions "
        f"WHERE {_TOTAL_OF.format(row='old')}; "
        f"DELETE FROM package_word_totals WHERE versions = 0 AND {_TOTAL_OF.format(row='old')}; "
        "END"
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE TABLE package_word_totals (word TEXT NOT NULL, in_name INTEGER NOT NULL, "
        "ecosystem TEXT NOT NULL, versions INTEGER NOT NULL, "
        "PRIMARY KEY (word, in_name, ecosystem)) WITHOUT ROWID"
    )
    op.execute(
        "INSERT INTO package_word_totals SELECT word, in_name, ecosystem, sum(versions) "
        "FROM package_description_words GROUP BY word, in_name, ecosystem"
    )
    for suffix, body in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER package_word_totals_{suffix} {body}")
    op.execute(
        "CREATE INDEX ix_package_name_suffixes_folded_starts ON package_name_suffixes "
        "(suffix, normalized_name, ecosystem, versions) "
        "WHERE earlier < 0 AND suffix <> normalized_name"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP INDEX ix_package_name_suffixes_folded_starts")
    for suffix in _TRIGGERS:
        op.execute(f"DROP TRIGGER package_word_totals_{suffix}")
    op.execute("DROP TABLE package_word_totals")
