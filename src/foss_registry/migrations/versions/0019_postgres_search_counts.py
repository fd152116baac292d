"""PostgreSQL keeps the counts its searches need, as SQLite does (migrations 0004 to 0018).

``total`` must count every match. PostgreSQL counted them per request over its
GIN indexes: 20 s for a word in every description at a million versions. Its
own tables of counts, kept in step by one trigger on ``package_versions``
(the function ``foss_count_version``), now answer those counts with a few
reads, per ecosystem and status.

``package_versions.search_words`` stores the words of each description (the
``tsvector`` migration 0006 indexed as an expression), and the description
index is now on that column. A search's page reads the name index in order
and tests each version, as far as the page reaches, when its term is common;
computing the words from the description for each version tested cost about
30 microseconds, reading them a fraction of one.

``package_name_suffixes``
    each suffix of three characters or more of each lower-cased name (as on
    SQLite, migration 0003): a name contains a term when one of its suffixes
    starts with it, one B-tree range. The trigram index answered that by
    intersecting a posting list per trigram of the term, tens of milliseconds
    at a million versions for a package name.

``package_name_statuses``
    per (ecosystem, name, status): how many versions the name has, so that the
    versions of the names containing a term are counted per name.

``package_name_prefix_totals``
    per (prefix, ecosystem, status): the versions whose name starts with the
    prefix of one or two characters, lower-cased as SQLite's ``lower()`` does
    (ASCII letters only), which is what a search of one or two characters
    matches. The one-character prefixes part every version once, so their
    sum also counts a listing with filters alone.

``package_word_status_totals``
    per (word, in_name, ecosystem, status): the versions whose description has
    the word (its lexeme in ``search_words``);
    ``in_name`` says whether the word is also inside the lower-cased name, so
    that a search of one word counts a version found by name and by
    description once.

``package_word_sets`` and ``package_word_set_totals``
    a search of several common words keeps its word set (the distinct words
    sorted and joined by one space); from then on the versions whose
    description has every word are counted per ecosystem and status.
    ``foss_keep_word_set`` adds a set: it holds writes off the versions (a
    ``SHARE`` lock) while it counts, so no change is counted twice or missed.

Each statement of the trigger writes its rows in key order, so two
transactions writing the same counts take their row locks in the same order.

SQLite needs nothing: its counts are those of migrations 0004, 0005 and 0016 to 0018.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# A description's words (as migration 0006 makes them), stored with each version.
_SEARCH_WORDS = (
    "ALTER TABLE package_versions ADD COLUMN search_words tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple', foss_search_text(coalesce(description, '')))) STORED"
)
_ASCII_LOWER = "translate({text}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"

_SUFFIXES = "SELECT substr(lower({name}), n) FROM generate_series(1, length({name}) - 2) AS n"
_TABLES = (
    'CREATE TABLE package_name_suffixes (suffix text COLLATE "C" NOT NULL, '
    'ecosystem text NOT NULL, normalized_name text COLLATE "C" NOT NULL, '
    "PRIMARY KEY (suffix, ecosystem, normalized_name))",
    "CREATE TABLE package_name_statuses (ecosystem text NOT NULL, "
    'normalized_name text COLLATE "C" NOT NULL, status text NOT NULL, versions integer NOT NULL, '
    "PRIMARY KEY (ecosystem, normalized_name, status))",
    "CREATE TABLE package_name_prefix_totals (prefix text NOT NULL, ecosystem text NOT NULL, "
    "status text NOT NULL, versions integer NOT NULL, PRIMARY KEY (prefix, ecosystem, status))",
    "CREATE TABLE package_word_status_totals (word text NOT NULL, in_name boolean NOT NULL, "
    "ecosystem text NOT NULL, status text NOT NULL, versions integer NOT NULL, "
    "PRIMARY KEY (word, in_name, ecosystem, status))",
    "CREATE TABLE package_word_sets (words text PRIMARY KEY, word_list text[] NOT NULL, "
    "rarest text NOT NULL)",
    "CREATE INDEX ix_package_word_sets_rarest ON package_word_sets (rarest)",
    "CREATE TABLE package_word_set_totals (words text NOT NULL, ecosystem text NOT NULL, "
    "status text NOT NULL, versions integer NOT NULL, PRIMARY KEY (words, ecosystem, status))",
)

_BACKFILL = (
    "INSERT INTO package_name_suffixes SELECT DISTINCT s, ecosystem, normalized_name "
    "FROM (SELECT DISTINCT ecosystem, normalized_name FROM package_versions) AS v, "
    f"LATERAL ({_SUFFIXES.format(name='v.normalized_name')}) AS suffixes(s)",
    "INSERT INTO package_name_statuses SELECT ecosystem, normalized_name, status, count(*) "
    "FROM package_versions GROUP BY 1, 2, 3",
    "INSERT INTO package_name_prefix_totals SELECT p, ecosystem, status, count(*) "
    "FROM package_versions, LATERAL (SELECT DISTINCT "
    f"{_ASCII_LOWER.format(text='left(normalized_name, n)')} AS p "
    "FROM generate_series(1, 2) AS n) AS prefixes GROUP BY 1, 2, 3",
    "INSERT INTO package_word_status_totals SELECT w, strpos(lower(normalized_name), w) > 0, "
    "ecosystem, status, count(*) "
    "FROM package_versions, unnest(tsvector_to_array(search_words)) AS w "
    "GROUP BY 1, 2, 3, 4",
)

_COUNT_VERSION = f"""
CREATE FUNCTION foss_count_version(eco text, name text, st text, lexemes text[], delta integer)
RETURNS void LANGUAGE plpgsql AS $$
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

_TRIGGER_FUNCTION = """
CREATE FUNCTION foss_search_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.ecosystem, OLD.normalized_name, OLD.status, OLD.description)
        IS NOT DISTINCT FROM (NEW.ecosystem, NEW.normalized_name, NEW.status, NEW.description) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM foss_count_version(OLD.ecosystem, OLD.normalized_name, OLD.status,
                                   tsvector_to_array(OLD.search_words), -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM foss_count_version(NEW.ecosystem, NEW.normalized_name, NEW.status,
                                   tsvector_to_array(NEW.search_words), 1);
    END IF;
    RETURN NULL;
END $$
"""

_KEEP_WORD_SET = """
CREATE FUNCTION foss_keep_word_set(set_key text, wanted text[], rarest_word text, most integer)
RETURNS boolean LANGUAGE plpgsql SET work_mem = '64MB' AS $$
BEGIN
    -- Writers wait while the set is counted: each change is then either in the
    -- count or counted by the trigger, never both, never neither.
    LOCK TABLE package_versions IN SHARE MODE;
    INSERT INTO package_word_sets (words, word_list, rarest)
    SELECT set_key, wanted, rarest_word WHERE (SELECT count(*) FROM package_word_sets) < most
    ON CONFLICT (words) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO package_word_set_totals (words, ecosystem, status, versions)
    SELECT set_key, ecosystem, status, count(*) FROM package_versions
    WHERE search_words @@ plainto_tsquery('simple', array_to_string(wanted, ' '))
    GROUP BY ecosystem, status;
    RETURN true;
END $$
"""


_COUNTED = (
    "package_versions",
    "package_name_suffixes",
    "package_name_statuses",
    "package_name_prefix_totals",
    "package_word_status_totals",
)


def _description_index(words: str) -> None:
    op.execute(
        "CREATE INDEX ix_package_versions_description_words ON package_versions "
        f"USING gin ({words})"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    # Dropped first: adding the column rewrites the table and its indexes.
    op.execute("DROP INDEX ix_package_versions_description_words")
    op.execute(_SEARCH_WORDS)
    _description_index("search_words")
    for statement in (*_TABLES, *_BACKFILL, _COUNT_VERSION, _TRIGGER_FUNCTION, _KEEP_WORD_SET):
        op.execute(statement)
    op.execute(
        "CREATE TRIGGER package_search_counts AFTER INSERT OR DELETE OR UPDATE OF ecosystem, "
        "normalized_name, status, description ON package_versions "
        "FOR EACH ROW EXECUTE FUNCTION foss_search_counts()"
    )
    for table in _COUNTED:
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP TRIGGER package_search_counts ON package_versions")
    op.execute("DROP FUNCTION foss_search_counts()")
    op.execute("DROP FUNCTION foss_keep_word_set(text, text[], text, integer)")
    op.execute("DROP FUNCTION foss_count_version(text, text, text, text[], integer)")
    for table in (
        "package_name_suffixes",
        "package_word_set_totals",
        "package_word_sets",
        "package_word_status_totals",
        "package_name_prefix_totals",
        "package_name_statuses",
    ):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP INDEX ix_package_versions_description_words")
    op.execute("ALTER TABLE package_versions DROP COLUMN search_words")
    _description_index("to_tsvector('simple', foss_search_text(coalesce(description, '')))")
