"""SQLite keeps exact counts for the searches that matched too much to count per request.

``total`` must count every match. A search of two common words ("library
for") or of one or two letters ("js") matches a large part of the catalogue,
and counting it version by version took a second at a million versions. Two
tables of counts, kept in step by triggers on ``package_versions``, answer
those counts with a few reads, per ecosystem and per status, so the status
filter costs nothing more:

``package_name_prefix_totals``
    per (prefix, ecosystem, status): how many versions have a name whose first
    one or two characters, lower-cased as SQLite's ``lower()`` does, are the
    prefix. A search of one or two characters matches exactly those names
    (``foss_registry.search_index``). The one-character prefixes part every
    version once, so their sum also counts a listing with filters alone.

``package_name_statuses``
    per (ecosystem, name, status): how many versions the name has in that
    status, so that a search with a status filter counts a matching name's
    versions with one read (``package_name_suffixes`` counts them all).

``package_word_sets`` and ``package_word_set_totals``
    a word set is the words of a search term of several words, sorted and
    joined by one space ("for library"). A set is kept once a search has asked
    for it and its rarest word is common (``search_index.KEPT_SETS_FROM``);
    from then on ``package_word_set_totals`` counts, per ecosystem and status,
    the versions whose description has every word of the set. ``rarest`` is the
    set's rarest word when it was added: the triggers find the sets a
    description may hold through its words, each set through one word.

PostgreSQL needs neither: its searches count with its GIN indexes.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

from foss_registry.search_index import register_sqlite_functions

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The distinct prefixes of one and two characters of a row's name.
_PREFIXES = (
    "SELECT DISTINCT lower(substr({row}.normalized_name, 1, n)) AS prefix "
    "FROM (SELECT 1 AS n UNION ALL SELECT 2)"
)
_ADD_PREFIXES = (
    "INSERT INTO package_name_prefix_totals(prefix, ecosystem, status, versions) "
    f"SELECT prefix, new.ecosystem, new.status, 1 FROM ({_PREFIXES.format(row='new')}) WHERE true "
    "ON CONFLICT(prefix, ecosystem, status) DO UPDATE SET versions = versions + 1"
)
_OLD_PREFIXES = (
    "ecosystem = old.ecosystem AND status = old.status "
    f"AND prefix IN ({_PREFIXES.format(row='old')})"
)
_REMOVE_PREFIXES = (
    f"UPDATE package_name_prefix_totals SET versions = versions - 1 WHERE {_OLD_PREFIXES}"
)
# The kept word sets a row's description holds.
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
_REMOVE_SETS = (
    "UPDATE package_word_set_totals SET versions = versions - 1 "
    "WHERE ecosystem = old.ecosystem AND status = old.status "
    f"AND words IN ({_SETS.format(row='old')})"
)
_ADD_STATUS = (
    "INSERT INTO package_name_statuses(ecosystem, normalized_name, status, versions) "
    "VALUES (new.ecosystem, new.normalized_name, new.status, 1) "
    "ON CONFLICT(ecosystem, normalized_name, status) DO UPDATE SET versions = versions + 1"
)
_OLD_STATUS = (
    "ecosystem = old.ecosystem AND normalized_name = old.normalized_name AND status = old.status"
)
_REMOVE_STATUS = (
    f"UPDATE package_name_statuses SET versions = versions - 1 WHERE {_OLD_STATUS}; "
    f"DELETE FROM package_name_statuses WHERE versions = 0 AND {_OLD_STATUS}"
)
_TRIGGERS = {
    "package_name_prefix_totals": (_ADD_PREFIXES, _REMOVE_PREFIXES, "normalized_name, "),
    "package_name_statuses": (_ADD_STATUS, _REMOVE_STATUS, "normalized_name, "),
    "package_word_set_totals": (_ADD_SETS, _REMOVE_SETS, "description, "),
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    raw = bind.connection.driver_connection
    assert raw is not None
    register_sqlite_functions(raw)
    op.execute(
        "CREATE TABLE package_name_prefix_totals (prefix TEXT NOT NULL, ecosystem TEXT NOT NULL, "
        "status TEXT NOT NULL, versions INTEGER NOT NULL, "
        "PRIMARY KEY (prefix, ecosystem, status)) WITHOUT ROWID"
    )
    op.execute(
        "INSERT INTO package_name_prefix_totals "
        "SELECT prefix, ecosystem, status, count(*) FROM ("
        "SELECT lower(substr(normalized_name, 1, 1)) AS prefix, ecosystem, status "
        "FROM package_versions UNION ALL "
        "SELECT lower(substr(normalized_name, 1, 2)), ecosystem, status FROM package_versions "
        "WHERE length(normalized_name) > 1) GROUP BY prefix, ecosystem, status"
    )
    op.execute(
        "CREATE TABLE package_name_statuses (ecosystem TEXT NOT NULL, "
        "normalized_name TEXT NOT NULL, status TEXT NOT NULL, versions INTEGER NOT NULL, "
        "PRIMARY KEY (ecosystem, normalized_name, status)) WITHOUT ROWID"
    )
    op.execute(
        "INSERT INTO package_name_statuses SELECT ecosystem, normalized_name, status, count(*) "
        "FROM package_versions GROUP BY ecosystem, normalized_name, status"
    )
    op.execute(
        "CREATE TABLE package_word_sets (words TEXT PRIMARY KEY, rarest TEXT NOT NULL) "
        "WITHOUT ROWID"
    )
    op.execute("CREATE INDEX ix_package_word_sets_rarest ON package_word_sets (rarest)")
    op.execute(
        "CREATE TABLE package_word_set_totals (words TEXT NOT NULL, ecosystem TEXT NOT NULL, "
        "status TEXT NOT NULL, versions INTEGER NOT NULL, "
        "PRIMARY KEY (words, ecosystem, status)) WITHOUT ROWID"
    )
    for table, (add, remove, columns) in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {table}_ai AFTER INSERT ON package_versions BEGIN {add}; END")
        op.execute(
            f"CREATE TRIGGER {table}_ad AFTER DELETE ON package_versions BEGIN {remove}; END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_au AFTER UPDATE OF {columns}ecosystem, status "
            f"ON package_versions BEGIN {remove}; {add}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TRIGGERS:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER {table}_{suffix}")
    op.execute("DROP TABLE package_word_set_totals")
    op.execute("DROP TABLE package_word_sets")
    op.execute("DROP TABLE package_name_statuses")
    op.execute("DROP TABLE package_name_prefix_totals")
