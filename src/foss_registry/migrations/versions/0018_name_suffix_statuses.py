"""SQLite's name suffix rows carry their name's versions per status, beside all of them.

A search with a status filter (``jsonrest&status=approved``) counts the
versions in that status of every name containing the term. Each suffix row
already carries its name's version count (``versions``, migration 0004), which
the search sums over one range of the suffix key; the count in a status was
looked up in ``package_name_statuses`` for each name instead (1,939 names for
``jsonrest`` at a million versions: about 3 ms of the 6). Now each row also
carries ``pending``, ``approved`` and ``rejected``, kept by the same triggers,
and the status count is the same range read.

A decision changes a status: the trigger on ``status`` (with ``ecosystem`` and
``normalized_name`` as before) takes the version away from its old name and
status and adds it to the new ones, the rows of one name (as many as its
suffixes).

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

#: The statuses a version may have (``packages.models.STATUSES``), one column each.
STATUSES = ("pending", "approved", "rejected")
MIN_SUFFIX = 3

_ADD = (
    "INSERT INTO package_name_suffixes(suffix, ecosystem, normalized_name, earlier, versions{c}) "
    "SELECT json_extract(j.value, '$[0]'), new.ecosystem, new.normalized_name, "
    "json_extract(j.value, '$[1]'), 1{v} FROM json_each(foss_name_suffixes(new.normalized_name)) "
    "AS j WHERE true ON CONFLICT(suffix, ecosystem, normalized_name) DO UPDATE SET "
    "versions = versions + 1{u}"
)
_OLD_ROWS = (
    "ecosystem = old.ecosystem AND normalized_name = old.normalized_name AND suffix IN "
    "(SELECT lower(substr(old.normalized_name, n)) FROM name_suffix_positions "
    f"WHERE n <= length(old.normalized_name) - {MIN_SUFFIX - 1})"
)
_REMOVE = (
    "UPDATE package_name_suffixes SET versions = versions - 1{u} WHERE "
    + _OLD_ROWS
    + "; DELETE FROM package_name_suffixes WHERE versions = 0 AND "
    + _OLD_ROWS
)


def _bodies(statuses: bool) -> tuple[str, str]:
    """The trigger bodies that add and remove a version, with or without the status counts."""
    if not statuses:
        return _ADD.format(c="", v="", u=""), _REMOVE.format(u="")
    columns = "".join(f", {s}" for s in STATUSES)
    values = "".join(f", new.status = '{s}'" for s in STATUSES)
    add = "".join(f", {s} = {s} + excluded.{s}" for s in STATUSES)
    remove = "".join(f", {s} = {s} - (old.status = '{s}')" for s in STATUSES)
    return _ADD.format(c=columns, v=values, u=add), _REMOVE.format(u=remove)


def _triggers(statuses: bool) -> None:
    add, remove = _bodies(statuses)
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER package_name_suffixes_{suffix}")
    op.execute(
        f"CREATE TRIGGER package_name_suffixes_ai AFTER INSERT ON package_versions BEGIN {add}; END"
    )
    op.execute(
        "CREATE TRIGGER package_name_suffixes_ad AFTER DELETE ON package_versions "
        f"BEGIN {remove}; END"
    )
    changed = "ecosystem, normalized_name, status" if statuses else "ecosystem, normalized_name"
    op.execute(
        f"CREATE TRIGGER package_name_suffixes_au AFTER UPDATE OF {changed} ON package_versions "
        f"BEGIN {remove}; {add}; END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for status in STATUSES:
        op.execute(
            f"ALTER TABLE package_name_suffixes ADD COLUMN {status} INTEGER NOT NULL DEFAULT 0"
        )
    counts = ", ".join(
        f"{s} = coalesce((SELECT t.versions FROM package_name_statuses t "
        "WHERE t.ecosystem = package_name_suffixes.ecosystem "
        f"AND t.normalized_name = package_name_suffixes.normalized_name AND t.status = '{s}'), 0)"
        for s in STATUSES
    )
    op.execute(f"UPDATE package_name_suffixes SET {counts}")
    _triggers(statuses=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _triggers(statuses=False)
    for status in STATUSES:
        op.execute(f"ALTER TABLE package_name_suffixes DROP COLUMN {status}")
