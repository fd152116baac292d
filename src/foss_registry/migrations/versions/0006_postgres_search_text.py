"""PostgreSQL compares description words without accents, as SQLite does.

SQLite's words (``foss_registry.search_index``) are the description
decomposed (Unicode NFD) with its combining marks dropped: ``für`` is the word
``fur``, ``йогурт`` is ``иогурт``, while ``ß`` or ``ø``, letters of their own,
stay as they are. PostgreSQL's ``simple`` configuration kept the accents, so the
same search found different versions on the two backends. The function
``foss_search_text`` does here what SQLite's words do: decompose, drop the
marks of Unicode's combining-diacritics blocks, and make every run of other
characters than letters and digits a space. The description index and the
searches both go through it.

It needs a UTF-8 database (``normalize`` works only there) whose ``LC_CTYPE``
knows letters beyond ASCII (``C.UTF-8`` or a language's ``.UTF-8``, as
``initdb`` picks on a UTF-8 system; with ``C`` no other letter is a letter).

SQLite needs nothing.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The combining marks of the blocks Combining Diacritical Marks, their
# Extended and Supplement blocks, those for Symbols, and the Half Marks.
_MARKS = "[\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe20-\\ufe2f]"
_SEARCH_TEXT = (
    "CREATE FUNCTION foss_search_text(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT regexp_replace(regexp_replace(normalize($1, NFD), "
    f"'{_MARKS}', '', 'g'), '(\\W|_)+', ' ', 'g') $$"
)
_OLD_WORDS = "regexp_replace(coalesce(description, ''), '(\\W|_)+', ' ', 'g')"


def _index(words: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_package_versions_description_words")
    op.execute(
        "CREATE INDEX ix_package_versions_description_words ON package_versions "
        f"USING gin (to_tsvector('simple', {words}))"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(_SEARCH_TEXT)
    _index("foss_search_text(coalesce(description, ''))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    _index(_OLD_WORDS)
    op.execute("DROP FUNCTION foss_search_text(text)")
