"""Description search on SQLite through a words table kept in name order.

A search answers its first page in name order and counts every match. The
FTS5 index it replaces returned matches in id order, so a word found in 14,000
descriptions meant 14,000 row lookups and a sort per request (about 45 ms at a
million versions). ``package_description_words`` holds one row per (word,
package name) with the number of that name's versions whose description has
the word, keyed in name order: a page is a range read and a count is a sum.
``in_name`` says whether the word is also inside the name, so that a search
for one word counts a version found by name and by description once.

``package_name_suffixes`` gains the number of versions of each name, so that
the versions matched by name are counted without visiting them.

Words are what ``foss_registry.search_index`` says they are; the triggers
call it as the SQL function ``foss_description_words``.

PostgreSQL keeps its GIN indexes, on the expressions the searches now use: the
lower-cased name (a name with capitals, such as npm's ``JSONStream``, is found
by ``json``), and the description with every run of characters other than
letters and digits made a space (its own parser kept ``node.js`` whole).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from foss_registry.search_index import register_sqlite_functions

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Suffixes shorter than this are not indexed (as in migration 0003).
MIN_SUFFIX = 3

_WORDS = "json_each(foss_description_words({row}.description))"
_ADD_WORDS = (
    "INSERT INTO package_description_words(word, in_name, normalized_name, ecosystem, versions) "
    "SELECT value, instr(lower(new.normalized_name), value) > 0, new.normalized_name, "
    f"new.ecosystem, 1 FROM {_WORDS.format(row='new')} WHERE true "
    "ON CONFLICT(word, in_name, normalized_name, ecosystem) DO UPDATE SET versions = versions + 1"
)
_OLD_WORDS = (
    "ecosystem = old.ecosystem AND normalized_name = old.normalized_name "
    f"AND word IN (SELECT value FROM {_WORDS.format(row='old')})"
)
_REMOVE_WORDS = (
    f"UPDATE package_description_words SET versions = versions - 1 WHERE {_OLD_WORDS}; "
    f"DELETE FROM package_description_words WHERE versions = 0 AND {_OLD_WORDS}"
)
_SUFFIXES = (
    "SELECT lower(substr({row}.normalized_name, n)) FROM name_suffix_positions "
    f"WHERE n <= length({{row}}.normalized_name) - {MIN_SUFFIX - 1}"
)
_SUFFIX_ROWS = (
    "SELECT json_extract(j.value, '$[0]'), {row}.ecosystem, {row}.normalized_name, "
    "json_extract(j.value, '$[1]'), {versions} "
    "FROM {source} json_each(foss_name_suffixes({row}.normalized_name)) AS j WHERE true"
)
_ADD_SUFFIXES = (
    "INSERT INTO package_name_suffixes(suffix, ecosystem, normalized_name, earlier, versions) "
    + _SUFFIX_ROWS.format(row="new", versions=1, source="")
    + " ON CONFLICT(suffix, ecosystem, normalized_name) DO UPDATE SET versions = versions + 1"
)
_OLD_SUFFIXES = (
    "ecosystem = old.ecosystem AND normalized_name = old.normalized_name "
    f"AND suffix IN ({_SUFFIXES.format(row='old')})"
)
_REMOVE_SUFFIXES = (
    f"UPDATE package_name_suffixes SET versions = versions - 1 WHERE {_OLD_SUFFIXES}; "
    f"DELETE FROM package_name_suffixes WHERE versions = 0 AND {_OLD_SUFFIXES}"
)


def _drop_triggers(prefix: str) -> None:
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS {prefix}_{suffix}")


_POSTGRES_NAME_INDEX = (
    "CREATE INDEX ix_package_versions_name_trgm ON package_versions USING gin ({name} gin_trgm_ops)"
)
_POSTGRES_WORDS_INDEX = (
    "CREATE INDEX ix_package_versions_description_words ON package_versions "
    "USING gin (to_tsvector('simple', {description}))"
)
_POSTGRES_WORDS = "regexp_replace(coalesce(description, ''), '(\\W|_)+', ' ', 'g')"


def _postgres_indexes(name: str, description: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_package_versions_name_trgm")
    op.execute("DROP INDEX IF EXISTS ix_package_versions_description_words")
    op.execute(_POSTGRES_NAME_INDEX.format(name=name))
    op.execute(_POSTGRES_WORDS_INDEX.format(description=description))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        _postgres_indexes("lower(normalized_name)", _POSTGRES_WORDS)
        return
    raw = bind.connection.driver_connection
    assert raw is not None
    register_sqlite_functions(raw)
    _drop_triggers("package_text_search")
    op.execute("DROP TABLE package_text_search")
    op.execute(
        "CREATE TABLE package_description_words ("
        "word TEXT NOT NULL, in_name INTEGER NOT NULL, normalized_name TEXT NOT NULL, "
        "ecosystem TEXT NOT NULL, versions INTEGER NOT NULL, "
        "PRIMARY KEY (word, in_name, normalized_name, ecosystem)) WITHOUT ROWID"
    )
    op.execute(
        "INSERT INTO package_description_words "
        "SELECT j.value, instr(lower(v.normalized_name), j.value) > 0, v.normalized_name, "
        f"v.ecosystem, count(*) FROM package_versions v, {_WORDS.format(row='v')} j "
        "GROUP BY j.value, v.normalized_name, v.ecosystem ORDER BY 1, 2, 3, 4"
    )
    op.execute(
        "CREATE TRIGGER package_description_words_ai AFTER INSERT ON package_versions "
        f"BEGIN {_ADD_WORDS}; END"
    )
    op.execute(
        "CREATE TRIGGER package_description_words_ad AFTER DELETE ON package_versions "
        f"BEGIN {_REMOVE_WORDS}; END"
    )
    op.execute(
        "CREATE TRIGGER package_description_words_au AFTER UPDATE OF description, "
        f"normalized_name, ecosystem ON package_versions BEGIN {_REMOVE_WORDS}; {_ADD_WORDS}; END"
    )

    _drop_triggers("package_name_suffixes")
    op.execute("DROP TABLE package_name_suffixes")
    op.execute(
        "CREATE TABLE package_name_suffixes (suffix TEXT NOT NULL, ecosystem TEXT NOT NULL, "
        "normalized_name TEXT NOT NULL, earlier INTEGER NOT NULL, versions INTEGER NOT NULL, "
        "PRIMARY KEY (suffix, ecosystem, normalized_name)) WITHOUT ROWID"
    )
    names = (
        "(SELECT ecosystem, normalized_name, count(*) AS versions FROM package_versions "
        "GROUP BY ecosystem, normalized_name) AS n,"
    )
    op.execute(
        "INSERT INTO package_name_suffixes "
        + _SUFFIX_ROWS.format(row="n", versions="n.versions", source=names)
        + " ORDER BY 1, 2, 3"
    )
    op.execute(
        "CREATE TRIGGER package_name_suffixes_ai AFTER INSERT ON package_versions "
        f"BEGIN {_ADD_SUFFIXES}; END"
    )
    op.execute(
        "CREATE TRIGGER package_name_suffixes_ad AFTER DELETE ON package_versions "
        f"BEGIN {_REMOVE_SUFFIXES}; END"
    )
    op.execute(
        "CREATE TRIGGER package_name_suffixes_au AFTER UPDATE OF ecosystem, normalized_name "
        f"ON package_versions BEGIN {_REMOVE_SUFFIXES}; {_ADD_SUFFIXES}; END"
    )


# Migration 0003's triggers, restored by downgrade.
_OLD_ADD_SUFFIXES = (
    "INSERT OR IGNORE INTO package_name_suffixes(suffix, ecosystem, normalized_name) "
    "SELECT lower(substr(new.normalized_name, n)), new.ecosystem, new.normalized_name "
    f"FROM name_suffix_positions WHERE n <= length(new.normalized_name) - {MIN_SUFFIX - 1}"
)
_OLD_REMOVE_ORPHAN = (
    f"DELETE FROM package_name_suffixes WHERE {_OLD_SUFFIXES} "
    "AND NOT EXISTS (SELECT 1 FROM package_versions WHERE ecosystem = old.ecosystem "
    "AND normalized_name = old.normalized_name)"
)
_OLD_NEW_NAME = (
    "NOT EXISTS (SELECT 1 FROM package_name_suffixes WHERE suffix = lower(new.normalized_name) "
    "AND ecosystem = new.ecosystem AND normalized_name = new.normalized_name)"
)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        _postgres_indexes("normalized_name", "coalesce(description, '')")
        return
    _drop_triggers("package_name_suffixes")
    op.execute("ALTER TABLE package_name_suffixes DROP COLUMN earlier")
    op.execute("ALTER TABLE package_name_suffixes DROP COLUMN versions")
    op.execute(
        "CREATE TRIGGER package_name_suffixes_ai AFTER INSERT ON package_versions "
        f"WHEN {_OLD_NEW_NAME} BEGIN {_OLD_ADD_SUFFIXES}; END"
    )
    op.execute(
        "CREATE TRIGGER package_name_suffixes_ad AFTER DELETE ON package_versions "
        f"BEGIN {_OLD_REMOVE_ORPHAN}; END"
    )
    op.execute(
        "CREATE TRIGGER package_name_suffixes_au AFTER UPDATE OF ecosystem, normalized_name "
        f"ON package_versions BEGIN {_OLD_REMOVE_ORPHAN}; {_OLD_ADD_SUFFIXES}; END"
    )
    _drop_triggers("package_description_words")
    op.execute("DROP TABLE package_description_words")
    op.execute(
        "CREATE VIRTUAL TABLE package_text_search USING fts5(description, "
        "content='package_versions', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute("INSERT INTO package_text_search(package_text_search) VALUES ('rebuild')")
    op.execute(
        "CREATE TRIGGER package_text_search_ai AFTER INSERT ON package_versions BEGIN "
        "INSERT INTO package_text_search(rowid, description) VALUES (new.id, new.description); END"
    )
    op.execute(
        "CREATE TRIGGER package_text_search_ad AFTER DELETE ON package_versions BEGIN "
        "INSERT INTO package_text_search(package_text_search, rowid, description) "
        "VALUES ('delete', old.id, old.description); END"
    )
    op.execute(
        "CREATE TRIGGER package_text_search_au AFTER UPDATE OF description ON package_versions "
        "BEGIN INSERT INTO package_text_search(package_text_search, rowid, description) "
        "VALUES ('delete', old.id, old.description); "
        "INSERT INTO package_text_search(rowid, description) VALUES (new.id, new.description); END"
    )
