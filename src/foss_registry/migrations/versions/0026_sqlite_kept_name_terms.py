"""SQLite keeps the version counts of a term found inside many names, and finds its first names.

A search of a short piece of a name (``http``, ``json``, ``cli``: inside 227,040
of a million versions' names) summed the versions of every name containing it
from ``package_name_suffixes`` at each search, to give ``total``: 11-15 ms of
one thread, where the page itself takes a fraction of a millisecond. Such a
term is now kept at its first search (:mod:`foss_registry.packages.name_terms`),
as PostgreSQL keeps its terms (migration 0024):

``package_name_terms``
    the kept terms (lower-cased, as searched).

``package_name_term_totals``
    per kept term, ecosystem and status: the versions whose lower-cased name
    contains the term.

Triggers on ``package_versions`` keep the totals in step with every version
added, removed, renamed or decided, for the kept terms inside its name; with no
term kept they read one empty table. A term is added, and its totals counted
from the suffix rows, in one write transaction: no change can fall between
the count and the triggers. Nothing to fill: no term is kept before a search
asks. PostgreSQL needs nothing (migration 0024).

``ix_package_name_suffixes_starts`` lists the names (without capitals) by name
alone, one row each: a page's first names, those starting with the term, were
found by walking the term's suffix rows in order, past every name that has the
term further on (``http-100104`` sorts before ``httpcli-...``): 2 ms for
``http`` at a million versions, now a few rows. Names with capitals have
their own index (migration 0005). Building it reads the suffix rows once
(about 15 s at a million versions).

Revision ID: 0026
Revises: 0025
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# Each kept term inside a row's lower-cased name (SQLite's lower() folds ASCII letters
# only, as the suffix rows do: foss_registry.search_index.ascii_lower).
_COUNT = (
    "INSERT INTO package_name_term_totals(term, ecosystem, status, versions) "
    "SELECT k.term, {row}.ecosystem, {row}.status, {delta} FROM package_name_terms k "
    "WHERE instr(lower({row}.normalized_name), k.term) > 0 "
    "ON CONFLICT(term, ecosystem, status) DO UPDATE SET versions = versions + {delta}"
)
_ADD = _COUNT.format(row="new", delta=1)
_REMOVE = _COUNT.format(row="old", delta=-1)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE INDEX ix_package_name_suffixes_starts ON package_name_suffixes "
        "(suffix, ecosystem) WHERE earlier < 0 AND suffix = normalized_name"
    )
    op.execute("CREATE TABLE package_name_terms (term TEXT PRIMARY KEY) WITHOUT ROWID")
    op.execute(
        "CREATE TABLE package_name_term_totals (term TEXT NOT NULL, ecosystem TEXT NOT NULL, "
        "status TEXT NOT NULL, versions INTEGER NOT NULL, "
        "PRIMARY KEY (term, ecosystem, status)) WITHOUT ROWID"
    )
    op.execute(
        f"CREATE TRIGGER package_name_term_totals_ai AFTER INSERT ON package_versions "
        f"BEGIN {_ADD}; END"
    )
    op.execute(
        f"CREATE TRIGGER package_name_term_totals_ad AFTER DELETE ON package_versions "
        f"BEGIN {_REMOVE}; END"
    )
    op.execute(
        "CREATE TRIGGER package_name_term_totals_au AFTER UPDATE OF ecosystem, normalized_name, "
        f"status ON package_versions BEGIN {_REMOVE}; {_ADD}; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER package_name_term_totals_{suffix}")
    op.execute("DROP TABLE package_name_term_totals")
    op.execute("DROP TABLE package_name_terms")
    op.execute("DROP INDEX ix_package_name_suffixes_starts")
