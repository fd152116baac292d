"""PostgreSQL keeps the names containing a term asked for often, in page order, with their counts.

A search of a word inside about 0.8 % of the names (``jsonrest`` at a million
versions: 1,939 names) read every name containing it from
``package_name_suffixes`` at each search, to sum their versions and to sort
the first ones by name: about 5 ms of PostgreSQL a search, where a package
name took 0.3. A term whose names are many is now kept at its first search,
as a set of common words is (migration 0022):

``package_name_terms``
    the kept terms; ``counting`` holds the token of the count under way
    (:mod:`foss_registry.packages.postgres_name_terms`), NULL once the kept
    rows are exact.

``package_name_term_names``
    per kept term, each name containing it (lower-cased), with its place (0: the
    name is the term, 1: it starts with it, 2: it contains it further on) and
    its versions per status: the page's names in its order, one index range
    read as far as the page reaches.

``package_name_term_totals``
    per kept term, ecosystem and status: the versions of those names.

A second trigger on ``package_versions`` (``foss_name_term_counts``) keeps
both in step with every version added, removed, renamed or decided, for the
kept terms inside its name; with no term kept it reads one empty table.

Nothing to fill: no term is kept before a search asks. SQLite needs nothing.

Revision ID: 0024
Revises: 0023
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_TABLES = (
    'CREATE TABLE package_name_terms (term text COLLATE "C" PRIMARY KEY, counting text)',
    'CREATE TABLE package_name_term_names (term text COLLATE "C" NOT NULL, '
    'place smallint NOT NULL, normalized_name text COLLATE "C" NOT NULL, '
    "ecosystem text NOT NULL, pending integer NOT NULL, approved integer NOT NULL, "
    "rejected integer NOT NULL, PRIMARY KEY (term, place, normalized_name, ecosystem))",
    'CREATE TABLE package_name_term_totals (term text COLLATE "C" NOT NULL, '
    "ecosystem text NOT NULL, status text NOT NULL, versions integer NOT NULL, "
    "PRIMARY KEY (term, ecosystem, status))",
)

# The kept terms inside a version's lower-cased name, and where: their rows written in
# key order, so two writers of one name lock them alike.
_COUNT_NAME_TERMS = """
CREATE FUNCTION foss_count_name_terms(eco text, name text, st text, delta integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    folded text := lower(name);
    terms text[];
    places smallint[];
BEGIN
    SELECT array_agg(k.term ORDER BY k.term),
           array_agg(CASE WHEN folded = k.term THEN 0 WHEN starts_with(folded, k.term) THEN 1
                          ELSE 2 END ORDER BY k.term)
    INTO terms, places FROM package_name_terms k WHERE strpos(folded, k.term) > 0;
    IF terms IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO package_name_term_names AS t (term, place, normalized_name, ecosystem,
                                              pending, approved, rejected)
    SELECT u.term, u.place, name, eco, CASE WHEN st = 'pending' THEN delta ELSE 0 END,
           CASE WHEN st = 'approved' THEN delta ELSE 0 END,
           CASE WHEN st = 'rejected' THEN delta ELSE 0 END
    FROM unnest(terms, places) AS u(term, place) ORDER BY 1
    ON CONFLICT (term, place, normalized_name, ecosystem) DO UPDATE SET
        pending = t.pending + excluded.pending, approved = t.approved + excluded.approved,
        rejected = t.rejected + excluded.rejected;
    INSERT INTO package_name_term_totals AS t (term, ecosystem, status, versions)
    SELECT u.term, eco, st, delta FROM unnest(terms) AS u(term) ORDER BY 1
    ON CONFLICT (term, ecosystem, status) DO UPDATE SET versions = t.versions + delta;
    IF delta < 0 THEN
        -- A name goes from a term's rows with its last version.
        DELETE FROM package_name_term_names t
        WHERE (t.term, t.place) IN (SELECT * FROM unnest(terms, places))
        AND t.normalized_name = name AND t.ecosystem = eco
        AND t.pending = 0 AND t.approved = 0 AND t.rejected = 0;
    END IF;
END $$
"""

_TRIGGER_FUNCTION = """
CREATE FUNCTION foss_name_term_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.ecosystem, OLD.normalized_name, OLD.status)
        IS NOT DISTINCT FROM (NEW.ecosystem, NEW.normalized_name, NEW.status) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM foss_count_name_terms(OLD.ecosystem, OLD.normalized_name, OLD.status, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM foss_count_name_terms(NEW.ecosystem, NEW.normalized_name, NEW.status, 1);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for statement in (*_TABLES, _COUNT_NAME_TERMS, _TRIGGER_FUNCTION):
        op.execute(statement)
    op.execute(
        "CREATE TRIGGER package_name_term_counts AFTER INSERT OR DELETE OR UPDATE OF "
        "ecosystem, normalized_name, status ON package_versions "
        "FOR EACH ROW EXECUTE FUNCTION foss_name_term_counts()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP TRIGGER package_name_term_counts ON package_versions")
    op.execute("DROP FUNCTION foss_name_term_counts()")
    op.execute("DROP FUNCTION foss_count_name_terms(text, text, text, integer)")
    for table in ("package_name_term_totals", "package_name_term_names", "package_name_terms"):
        op.execute(f"DROP TABLE {table}")
