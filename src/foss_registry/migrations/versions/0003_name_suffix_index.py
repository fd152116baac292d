"""Name search on SQLite through a suffix index instead of an FTS5 trigram index.

A name matches a search term when one of its suffixes starts with the term, so
a B-tree of every suffix (three characters or longer) of every package name
answers a substring search with one range scan, however common the term's
letters are. The FTS5 trigram index it replaces had to intersect a posting list
per trigram of the term: about 1.2 ms per search at a million versions with
ordinary names, against a few hundredths of a millisecond for the range scan.
The table holds each distinct name once, not once per version, and triggers
keep it in step with ``package_versions`` (as they kept the trigram index).

PostgreSQL keeps its ``pg_trgm`` index: nothing changes there.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: Longest name any ecosystem accepts (``ecosystems.base.MAX_NAME_LENGTH``).
MAX_NAME_LENGTH = 255
#: Suffixes shorter than this are not indexed: shorter terms match names by prefix only.
MIN_SUFFIX = 3

_ADD = (
    "INSERT OR IGNORE INTO package_name_suffixes(suffix, ecosystem, normalized_name) "
    "SELECT lower(substr(new.normalized_name, n)), new.ecosystem, new.normalized_name "
    f"FROM name_suffix_positions WHERE n <= length(new.normalized_name) - {MIN_SUFFIX - 1}"
)
# A name's suffixes go when its last version goes.
_REMOVE_ORPHAN = (
    "DELETE FROM package_name_suffixes WHERE ecosystem = old.ecosystem "
    "AND normalized_name = old.normalized_name AND suffix IN "
    f"(SELECT lower(substr(old.normalized_name, n)) FROM name_suffix_positions "
    f"WHERE n <= length(old.normalized_name) - {MIN_SUFFIX - 1}) "
    "AND NOT EXISTS (SELECT 1 FROM package_versions WHERE ecosystem = old.ecosystem "
    "AND normalized_name = old.normalized_name)"
)
# Only the first version of a name adds anything; later ones find its full-name row.
_NEW_NAME = (
    "NOT EXISTS (SELECT 1 FROM package_name_suffixes WHERE suffix = lower(new.normalized_name) "
    "AND ecosystem = new.ecosystem AND normalized_name = new.normalized_name)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE TABLE package_name_suffixes ("
        "suffix TEXT NOT NULL, ecosystem TEXT NOT NULL, normalized_name TEXT NOT NULL, "
        "PRIMARY KEY (suffix, ecosystem, normalized_name)) WITHOUT ROWID"
    )
    # Triggers cannot use a recursive CTE, so the positions are a small table.
    op.execute("CREATE TABLE name_suffix_positions (n INTEGER PRIMARY KEY)")
    op.execute(
        "WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p "
        f"WHERE n < {MAX_NAME_LENGTH}) INSERT INTO name_suffix_positions SELECT n FROM p"
    )
    op.execute(
        "INSERT INTO package_name_suffixes(suffix, ecosystem, normalized_name) "
        "SELECT DISTINCT lower(substr(v.normalized_name, n)), v.ecosystem, v.normalized_name "
        "FROM (SELECT DISTINCT ecosystem, normalized_name FROM package_versions) v "
        f"JOIN name_suffix_positions ON n <= length(v.normalized_name) - {MIN_SUFFIX - 1}"
    )
    op.execute(
        "CREATE TRIGGER package_name_suffixes_ai AFTER INSERT ON package_versions "
        f"WHEN {_NEW_NAME} BEGIN {_ADD}; END"
    )
    op.execute(
        "CREATE TRIGGER package_name_suffixes_ad AFTER DELETE ON package_versions "
        f"BEGIN {_REMOVE_ORPHAN}; END"
    )
    op.execute(
        "CREATE TRIGGER package_name_suffixes_au AFTER UPDATE OF ecosystem, normalized_name "
        f"ON package_versions BEGIN {_REMOVE_ORPHAN}; {_ADD}; END"
    )
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER package_name_search_{suffix}")
    op.execute("DROP TABLE package_name_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER package_name_suffixes_{suffix}")
    op.execute("DROP TABLE package_name_suffixes")
    op.execute("DROP TABLE name_suffix_positions")
    op.execute(
        "CREATE VIRTUAL TABLE package_name_search USING fts5(normalized_name, "
        "content='package_versions', content_rowid='id', tokenize='trigram')"
    )
    op.execute("INSERT INTO package_name_search(package_name_search) VALUES ('rebuild')")
    op.execute(
        "CREATE TRIGGER package_name_search_ai AFTER INSERT ON package_versions BEGIN "
        "INSERT INTO package_name_search(rowid, normalized_name) "
        "VALUES (new.id, new.normalized_name); END"
    )
    op.execute(
        "CREATE TRIGGER package_name_search_ad AFTER DELETE ON package_versions BEGIN "
        "INSERT INTO package_name_search(package_name_search, rowid, normalized_name) "
        "VALUES ('delete', old.id, old.normalized_name); END"
    )
    op.execute(
        "CREATE TRIGGER package_name_search_au AFTER UPDATE OF normalized_name "
        "ON package_versions BEGIN "
        "INSERT INTO package_name_search(package_name_search, rowid, normalized_name) "
        "VALUES ('delete', old.id, old.normalized_name); "
        "INSERT INTO package_name_search(rowid, normalized_name) "
        "VALUES (new.id, new.normalized_name); END"
    )
