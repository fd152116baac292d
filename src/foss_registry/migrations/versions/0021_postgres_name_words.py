"""PostgreSQL reads a description word's names in order, and counts a term's names in one range.

A search of a word in 0.6 % of the descriptions (``jsonrest`` at a million
versions: 6,000 versions, 1,939 names containing it) cost PostgreSQL about
40 ms. Two parts grew with the matches, not with the page:

- the page's descriptions: every version with the word was read from the GIN
  index and sorted, to keep the first hundred in name order;
- ``total``: the versions of each name containing the term were looked up in
  ``package_name_statuses``, one index descent per name.

SQLite answers both from per-name rows (migrations 0004 and 0018); PostgreSQL
now keeps the same:

``package_name_words``
    per (word, name, ecosystem): how many of the name's versions have the word
    in their description. A page reads the names with the term's rarest word in
    name order, and only their versions, as far as the page reaches.

``package_name_suffixes.pending``, ``approved``, ``rejected``
    each suffix row carries its name's versions per status, so the versions of
    the names containing a term are summed over one range of suffixes.

The trigger of migration 0019 keeps both: ``foss_count_version`` (a version's
name and status) adds to or takes from the name's suffix rows, and
``foss_count_name_words`` (a version's name and words) to the name's word rows,
called only when the name or the description changed (a decision changes the
status alone).

SQLite needs nothing.

Revision ID: 0021
Revises: 0020
"""

from alembic import op

from foss_registry.migrations.revisions import load_revision

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_ASCII_LOWER = "translate({text}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_SUFFIXES = "SELECT substr(lower({name}), n) FROM generate_series(1, length({name}) - 2) AS n"

_NAME_WORDS = (
    'CREATE TABLE package_name_words (word text COLLATE "C" NOT NULL, '
    'normalized_name text COLLATE "C" NOT NULL, ecosystem text NOT NULL, '
    "versions integer NOT NULL, PRIMARY KEY (word, normalized_name, ecosystem))"
)
_NAME_WORDS_BACKFILL = (
    "INSERT INTO package_name_words SELECT w, normalized_name, ecosystem, count(*) "
    "FROM package_versions, unnest(tsvector_to_array(search_words)) AS w GROUP BY 1, 2, 3"
)
# The suffix rows are written again with their counts (one pass; updating each row
# in place would leave a dead row beside each of them).
_SUFFIXES_WITH_COUNTS = (
    'CREATE TABLE package_name_suffixes_counted (suffix text COLLATE "C" NOT NULL, '
    'ecosystem text NOT NULL, normalized_name text COLLATE "C" NOT NULL, '
    "pending integer NOT NULL DEFAULT 0, approved integer NOT NULL DEFAULT 0, "
    "rejected integer NOT NULL DEFAULT 0)",
    "INSERT INTO package_name_suffixes_counted SELECT s.suffix, s.ecosystem, s.normalized_name, "
    "coalesce(t.pending, 0), coalesce(t.approved, 0), coalesce(t.rejected, 0) "
    "FROM package_name_suffixes s LEFT JOIN (SELECT ecosystem, normalized_name, "
    "sum(versions) FILTER (WHERE status = 'pending') AS pending, "
    "sum(versions) FILTER (WHERE status = 'approved') AS approved, "
    "sum(versions) FILTER (WHERE status = 'rejected') AS rejected "
    "FROM package_name_statuses GROUP BY 1, 2) AS t "
    "ON t.ecosystem = s.ecosystem AND t.normalized_name = s.normalized_name "
    "ORDER BY s.suffix, s.ecosystem, s.normalized_name",
    "DROP TABLE package_name_suffixes",
    "ALTER TABLE package_name_suffixes_counted RENAME TO package_name_suffixes",
    "ALTER TABLE package_name_suffixes ADD CONSTRAINT package_name_suffixes_pkey "
    "PRIMARY KEY (suffix, ecosystem, normalized_name)",
)

_COUNT_VERSION = f"""
CREATE OR REPLACE FUNCTION foss_count_version(
    eco text, name text, st text, lexemes text[], delta integer
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO package_name_statuses AS t (ecosystem, normalized_name, status, versions)
    VALUES (eco, name, st, delta)
    ON CONFLICT (ecosystem, normalized_name, status) DO UPDATE SET versions = t.versions + delta;
    INSERT INTO package_name_prefix_totals AS t (prefix, ecosystem, status, versions)
    SELECT DISTINCT {_ASCII_LOWER.format(text="left(name, n)")}, eco, st, delta
    FROM generate_series(1, 2) AS n ORDER BY 1
    ON CONFLICT (prefix, ecosystem, status) DO UPDATE SET versions = t.versions + delta;
    INSERT INTO package_word_status_totals AS t (word, in_name, ecosystem, status, versions)
    SELECT w, strpos(lower(name), w) > 0, eco, st, delta FROM unnest(lexemes) AS w ORDER BY 1
    ON CONFLICT (word, in_name, ecosystem, status) DO UPDATE SET versions = t.versions + delta;
    INSERT INTO package_word_set_totals AS t (words, ecosystem, status, versions)
    SELECT s.words, eco, st, delta FROM package_word_sets AS s
    WHERE s.rarest = ANY (lexemes) AND s.word_list <@ lexemes ORDER BY 1
    ON CONFLICT (words, ecosystem, status) DO UPDATE SET versions = t.versions + delta;
    IF delta > 0 AND NOT EXISTS (SELECT 1 FROM package_name_suffixes WHERE suffix = lower(name)
                                 AND ecosystem = eco AND normalized_name = name) THEN
        INSERT INTO package_name_suffixes (suffix, ecosystem, normalized_name)
        SELECT DISTINCT s, eco, name FROM ({_SUFFIXES.format(name="name")}) AS suffixes(s)
        ORDER BY 1
        ON CONFLICT DO NOTHING;
    END IF;
    -- In key order, as the insert above: two writers of one name lock its rows alike.
    UPDATE package_name_suffixes SET
        pending = pending + CASE WHEN st = 'pending' THEN delta ELSE 0 END,
        approved = approved + CASE WHEN st = 'approved' THEN delta ELSE 0 END,
        rejected = rejected + CASE WHEN st = 'rejected' THEN delta ELSE 0 END
    WHERE (suffix, ecosystem, normalized_name) IN (
        SELECT s, eco, name FROM ({_SUFFIXES.format(name="name")}) AS suffixes(s) ORDER BY 1);
    IF delta < 0 THEN
        DELETE FROM package_name_statuses
        WHERE ecosystem = eco AND normalized_name = name AND status = st AND versions = 0;
        -- A name's suffixes go with its last version.
        IF NOT EXISTS (SELECT 1 FROM package_name_statuses
                       WHERE ecosystem = eco AND normalized_name = name) THEN
            DELETE FROM package_name_suffixes WHERE ecosystem = eco AND normalized_name = name
            AND suffix IN ({_SUFFIXES.format(name="name")});
        END IF;
        DELETE FROM package_word_status_totals
        WHERE word = ANY (lexemes) AND ecosystem = eco AND status = st AND versions = 0;
    END IF;
END $$
"""

_COUNT_NAME_WORDS = """
CREATE FUNCTION foss_count_name_words(eco text, name text, lexemes text[], delta integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO package_name_words AS t (word, normalized_name, ecosystem, versions)
    SELECT w, name, eco, delta FROM unnest(lexemes) AS w ORDER BY 1
    ON CONFLICT (word, normalized_name, ecosystem) DO UPDATE SET versions = t.versions + delta;
    IF delta < 0 THEN
        DELETE FROM package_name_words
        WHERE word = ANY (lexemes) AND normalized_name = name AND ecosystem = eco AND versions = 0;
    END IF;
END $$
"""

_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION foss_search_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- A decision changes the status alone: the name's words stay as they are.
    words_changed boolean := TG_OP <> 'UPDATE' OR (OLD.ecosystem, OLD.normalized_name,
        OLD.description) IS DISTINCT FROM (NEW.ecosystem, NEW.normalized_name, NEW.description);
BEGIN
    IF TG_OP = 'UPDATE' AND NOT words_changed AND OLD.status IS NOT DISTINCT FROM NEW.status THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM foss_count_version(OLD.ecosystem, OLD.normalized_name, OLD.status,
                                   tsvector_to_array(OLD.search_words), -1);
        IF words_changed THEN
            PERFORM foss_count_name_words(OLD.ecosystem, OLD.normalized_name,
                                          tsvector_to_array(OLD.search_words), -1);
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM foss_count_version(NEW.ecosystem, NEW.normalized_name, NEW.status,
                                   tsvector_to_array(NEW.search_words), 1);
        IF words_changed THEN
            PERFORM foss_count_name_words(NEW.ecosystem, NEW.normalized_name,
                                          tsvector_to_array(NEW.search_words), 1);
        END IF;
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    # The backfills group millions of rows at a million versions: in memory.
    op.execute("SET LOCAL work_mem = '256MB'")
    for statement in (
        _NAME_WORDS,
        _NAME_WORDS_BACKFILL,
        *_SUFFIXES_WITH_COUNTS,
        _COUNT_VERSION,
        _COUNT_NAME_WORDS,
        _TRIGGER_FUNCTION,
    ):
        op.execute(statement)
    for table in ("package_name_words", "package_name_suffixes"):
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    before = load_revision("0019_postgres_search_counts.py")
    for statement in (
        "DROP TABLE package_name_words",
        "DROP FUNCTION foss_count_name_words(text, text, text[], integer)",
        "ALTER TABLE package_name_suffixes DROP COLUMN pending, DROP COLUMN approved, "
        "DROP COLUMN rejected",
        before._COUNT_VERSION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
        before._TRIGGER_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
    ):
        op.execute(statement)
