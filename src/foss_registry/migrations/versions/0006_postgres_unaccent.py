"""PostgreSQL compares description words without accents, as SQLite does.

SQLite's word index strips accents (``für`` is the word ``fur``); PostgreSQL's
``simple`` configuration kept them, so the same search found different
versions on the two backends. A text search configuration ``foss_words``, a
copy of ``simple`` whose words first go through the ``unaccent`` dictionary
(an extension shipped with PostgreSQL, trusted since PostgreSQL 13), now builds
the description index and parses the search's words.

SQLite needs nothing.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_WORDS = "regexp_replace(coalesce(description, ''), '(\\W|_)+', ' ', 'g')"
# Every token type of the default parser that holds letters or digits.
_WORD_TOKENS = (
    "asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, "
    "hword_numpart"
)


def _index(configuration: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_package_versions_description_words")
    op.execute(
        "CREATE INDEX ix_package_versions_description_words ON package_versions "
        f"USING gin (to_tsvector('{configuration}', {_WORDS}))"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE TEXT SEARCH CONFIGURATION foss_words (COPY = simple)")
    op.execute(
        f"ALTER TEXT SEARCH CONFIGURATION foss_words ALTER MAPPING FOR {_WORD_TOKENS} "
        "WITH unaccent, simple"
    )
    _index("foss_words")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    _index("simple")
    op.execute("DROP TEXT SEARCH CONFIGURATION foss_words")
