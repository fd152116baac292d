"""PostgreSQL's search counts find a removed version's count rows through their indexes.

The trigger of migrations 0019 and 0021 passes a version's ``normalized_name``
(a column in the ``"C"`` collation) to ``foss_count_version``, and PostgreSQL
then gives every text argument of the call that collation. Comparing such an
argument with a column in the database's default collation (``ecosystem``,
``status``, ``word``) can use no index made in the default collation: the
three statements that remove a version from the counts (a decision, which
moves it from one status to another, a rename or a delete) read the whole of
``package_name_statuses`` twice and ``package_word_status_totals`` once. At a
million versions a decision spent 160-460 ms in the trigger, holding its
rows. The same statements now say which collation they compare in (the
default's: equality is the same in both), and each is one index descent.

Nothing else changes: the counts and what they count are as before, and
``lower(name)`` keeps the ``"C"`` collation (ASCII letters only, as SQLite's).
SQLite needs nothing.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

from foss_registry.migrations.revisions import load_revision

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_DEFAULT = ' COLLATE "default"'
# The statements of 0021's foss_count_version, as they were and as they are now.
_COMPARISONS = {
    "WHERE ecosystem = eco AND normalized_name = name AND status = st AND versions = 0": (
        f"WHERE ecosystem = eco{_DEFAULT} AND normalized_name = name "
        f"AND status = st{_DEFAULT} AND versions = 0"
    ),
    "WHERE ecosystem = eco AND normalized_name = name) THEN": (
        f"WHERE ecosystem = eco{_DEFAULT} AND normalized_name = name) THEN"
    ),
    "WHERE word = ANY (lexemes) AND ecosystem = eco AND status = st AND versions = 0": (
        f"WHERE word = ANY (lexemes{_DEFAULT}) AND ecosystem = eco{_DEFAULT} "
        f"AND status = st{_DEFAULT} AND versions = 0"
    ),
}


def _count_version_of_0021() -> str:
    return str(load_revision("0021_postgres_name_words.py")._COUNT_VERSION)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    function = _count_version_of_0021()
    for before, after in _COMPARISONS.items():
        assert function.count(before) == 1, before
        function = function.replace(before, after)
    op.execute(function)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(_count_version_of_0021())
