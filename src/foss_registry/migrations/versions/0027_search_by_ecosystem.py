"""Searches filtered by an ecosystem read that ecosystem's names, not every name with the term.

Each ordered read of a search walked its index in name order and tested the
ecosystem row by row: ``search=library&ecosystem=docker`` passed every name
described by "library" to find the few images among them (27 ms at a million
versions when none was an image), and ``search=http&ecosystem=maven`` read every
name containing "http" to sort the few Maven ones. The ordered reads now have an
index that puts the ecosystem before the name:

``ix_package_description_words_ecosystem`` (SQLite)
    the names described by a word, per ecosystem, in name order (the ecosystem
    before ``in_name``: a walk of a word's rows in the key's order, as a word
    set's count makes, keeps to the key, not to this index).

``ix_package_name_words_ecosystem`` (PostgreSQL)
    the same for PostgreSQL's ``package_name_words`` (migration 0021).

``ix_package_name_suffixes_ecosystem_starts`` (SQLite)
    the names (without capitals) starting with a term, per ecosystem.

``package_name_term_names`` (SQLite; PostgreSQL has it since migration 0024)
    per kept name term (migration 0026), each name containing it, with its
    place (0: the name is the term, 1: it starts with it, 2: it contains it
    further on) and its versions per status; the names containing a term
    further on were read from every suffix row of the term and sorted at each
    search (10 ms for ``http``). Kept by the same triggers as the term's
    totals. The terms kept before this migration are forgotten (kept again at
    their next search, with their names).

``ix_package_name_term_names_ecosystem`` (both)
    a kept term's names per place and ecosystem, in name order.

Building the SQLite indexes reads the description words and the suffix rows
once (about 20 s at a million versions).

Revision ID: 0027
Revises: 0026
"""

from alembic import op
from sqlalchemy import text

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# Where a kept term is in a row's lower-cased name (SQLite's lower() folds ASCII
# letters only, as the suffix rows do): the ranks of a search (foss_registry.search_index).
_PLACE = (
    "CASE WHEN lower({row}.normalized_name) = k.term THEN 0 "
    "WHEN substr(lower({row}.normalized_name), 1, length(k.term)) = k.term THEN 1 ELSE 2 END"
)
_COUNT_NAME = (
    "INSERT INTO package_name_term_names(term, place, normalized_name, ecosystem, pending, "
    "approved, rejected) SELECT k.term, " + _PLACE + ", {row}.normalized_name, {row}.ecosystem, "
    "({row}.status = 'pending') * {delta}, ({row}.status = 'approved') * {delta}, "
    "({row}.status = 'rejected') * {delta} FROM package_name_terms k "
    "WHERE instr(lower({row}.normalized_name), k.term) > 0 "
    "ON CONFLICT(term, place, normalized_name, ecosystem) DO UPDATE SET "
    "pending = pending + excluded.pending, approved = approved + excluded.approved, "
    "rejected = rejected + excluded.rejected"
)
# A name leaves a term's rows with its last version (its key named whole: the term's
# other rows are not read).
_FORGET_NAME = (
    "DELETE FROM package_name_term_names WHERE (term, place, normalized_name, ecosystem) IN "
    "(SELECT k.term, " + _PLACE.format(row="old") + ", old.normalized_name, old.ecosystem "
    "FROM package_name_terms k WHERE instr(lower(old.normalized_name), k.term) > 0) "
    "AND pending = 0 AND approved = 0 AND rejected = 0"
)
_ADD = _COUNT_NAME.format(row="new", delta=1)
_REMOVE = _COUNT_NAME.format(row="old", delta=-1)
_TRIGGERS = {
    "ai": f"AFTER INSERT ON package_versions BEGIN {_ADD}; END",
    "ad": f"AFTER DELETE ON package_versions BEGIN {_REMOVE}; {_FORGET_NAME}; END",
    "au": (
        "AFTER UPDATE OF ecosystem, normalized_name, status ON package_versions "
        f"BEGIN {_REMOVE}; {_FORGET_NAME}; {_ADD}; END"
    ),
}
_NAMES_BY_ECOSYSTEM = (
    "CREATE INDEX ix_package_name_term_names_ecosystem ON package_name_term_names "
    "(term, place, ecosystem, normalized_name)"
)


_ANALYZED = "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
_INDEXES = (
    "ix_package_description_words_ecosystem",
    "ix_package_name_suffixes_ecosystem_starts",
    "ix_package_name_term_names_ecosystem",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute(
            "CREATE INDEX ix_package_name_words_ecosystem ON package_name_words "
            "(word, ecosystem, normalized_name)"
        )
        op.execute(_NAMES_BY_ECOSYSTEM)
        return
    op.execute(
        "CREATE INDEX ix_package_description_words_ecosystem ON package_description_words "
        "(word, ecosystem, in_name, normalized_name)"
    )
    op.execute(
        "CREATE INDEX ix_package_name_suffixes_ecosystem_starts ON package_name_suffixes "
        "(ecosystem, suffix) WHERE earlier < 0 AND suffix = normalized_name"
    )
    op.execute("DELETE FROM package_name_term_totals")
    op.execute("DELETE FROM package_name_terms")
    op.execute(
        "CREATE TABLE package_name_term_names (term TEXT NOT NULL, place INTEGER NOT NULL, "
        "normalized_name TEXT NOT NULL, ecosystem TEXT NOT NULL, pending INTEGER NOT NULL, "
        "approved INTEGER NOT NULL, rejected INTEGER NOT NULL, "
        "PRIMARY KEY (term, place, normalized_name, ecosystem)) WITHOUT ROWID"
    )
    op.execute(_NAMES_BY_ECOSYSTEM)
    for suffix, body in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER package_name_term_names_{suffix} {body}")
    if op.get_bind().execute(text(_ANALYZED)).first() is not None:
        # The planner knows the tables' keys from an earlier ANALYZE: without figures for
        # the new indexes it took them for small and sorted every name with a word to
        # page it (0.4 s for "library", 2.8 ms before). Their figures: under a second.
        for index in _INDEXES:
            op.execute(f"ANALYZE {index}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP INDEX ix_package_name_term_names_ecosystem")
        op.execute("DROP INDEX ix_package_name_words_ecosystem")
        return
    for suffix in _TRIGGERS:
        op.execute(f"DROP TRIGGER package_name_term_names_{suffix}")
    op.execute("DROP TABLE package_name_term_names")
    op.execute("DELETE FROM package_name_term_totals")
    op.execute("DELETE FROM package_name_terms")
    op.execute("DROP INDEX ix_package_name_suffixes_ecosystem_starts")
    op.execute("DROP INDEX ix_package_description_words_ecosystem")
