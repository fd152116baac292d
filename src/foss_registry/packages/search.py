"""Listing and searching package versions, in plain SQL on both backends.

``GET /packages?search=`` must stay fast at a million versions. The indexes
do the matching (SQLite: a B-tree of name suffixes and FTS5 words over
descriptions; PostgreSQL: ``pg_trgm`` and a ``tsvector`` GIN index), and the
statement is plain SQL built once per shape and cached, because building and
compiling an expression tree per request costs more than the indexed lookup.

Order: exact name, then name prefix, then the rest; ties by name, ecosystem and
version, highest first. ``total`` counts every match.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from foss_registry import ecosystems
from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.packages.models import STATUSES
from foss_registry.packages.reads import Reader, field_error

_WORD = re.compile(r"\w+")
#: Shortest term matched inside names; trigram indexes need three characters.
MIN_SUBSTRING = 3

_COLUMNS = "name, version, ecosystem, status, license"
_ORDER = "normalized_name, ecosystem, sort_token DESC, id DESC"
_RANK = (
    "CASE WHEN normalized_name = :term THEN 0 "
    "WHEN normalized_name >= :term AND normalized_name < :term_end THEN 1 ELSE 2 END"
)
_PREFIX = "normalized_name >= :term AND normalized_name < :term_end"
# SQLite: a name matches when one of its suffixes starts with the term (the
# suffix index of migration 0003). One IN over a UNION lets SQLite look rows up
# by id; an OR of two INs would scan the table.
_NAME_IDS = (
    "SELECT v.id FROM package_name_suffixes s JOIN package_versions v "
    "ON v.ecosystem = s.ecosystem AND v.normalized_name = s.normalized_name "
    "WHERE s.suffix >= :term AND s.suffix < :term_end"
)
_SQLITE_MATCH = {
    False: f"id IN ({_NAME_IDS})",
    True: (
        f"id IN ({_NAME_IDS} UNION "
        "SELECT rowid FROM package_text_search WHERE package_text_search MATCH :words)"
    ),
}
_POSTGRES_MATCH = {
    False: "normalized_name LIKE :pattern ESCAPE '\\'",
    True: (
        "(normalized_name LIKE :pattern ESCAPE '\\' OR to_tsvector('simple', "
        "coalesce(description, '')) @@ plainto_tsquery('simple', :words))"
    ),
}


def validate_status(status: str | None) -> str | None:
    """Return a status filter value, or raise InvalidInputError for an unknown one."""
    if status is None:
        return None
    value = status.strip().lower()
    if value not in STATUSES:
        raise InvalidInputError(
            f"Unknown status {status!r}; use one of: {', '.join(STATUSES)}.",
            code="invalid_status",
            errors=[FieldError("status", f"must be one of {', '.join(STATUSES)}")],
        )
    return value


@lru_cache(maxsize=64)
def _statement(
    dialect: str, ecosystem: bool, status: bool, term: str | None, count_window: bool
) -> str:
    """The SQL of one shape of request; ``term`` is "short", "name" or "words" (or None)."""
    where = []
    if ecosystem:
        where.append("ecosystem = :ecosystem")
    if status:
        where.append("status = :status")
    if term == "short":
        where.append(_PREFIX)
    elif term is not None:
        matches = _SQLITE_MATCH if dialect == "sqlite" else _POSTGRES_MATCH
        where.append(matches[term == "words"])
    order = f"{_RANK}, {_ORDER}" if term is not None else _ORDER
    columns = f"{_COLUMNS}, count(*) OVER () AS total" if count_window else _COLUMNS
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    page = f"SELECT {columns} FROM package_versions{condition} ORDER BY {order} "
    page += "LIMIT :limit OFFSET :offset"
    return page


@lru_cache(maxsize=64)
def _count_statement(dialect: str, ecosystem: bool, status: bool, term: str | None) -> str:
    page = _statement(dialect, ecosystem, status, term, False)
    condition = page[page.index(" FROM ") : page.index(" ORDER BY ")]
    return f"SELECT count(*){condition}"


def list_packages(
    read: Reader,
    dialect: str,
    *,
    search: str | None = None,
    ecosystem: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """List or search package versions; ``total`` counts every match."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if ecosystem is not None:
        try:
            params["ecosystem"] = ecosystems.get(ecosystem).name
        except InvalidInputError as exc:
            raise field_error(exc, "ecosystem") from None
    status = validate_status(status)
    if status is not None:
        params["status"] = status
    term = (search or "").strip().lower()
    if "\x00" in term:
        raise InvalidInputError("The search term contains a null byte.", code="invalid_input")
    shape: str | None = None
    if term:
        params["term"] = term
        params["term_end"] = term + "\uffff"
        words = _WORD.findall(term)
        if len(term) < MIN_SUBSTRING:
            shape = "short"
        else:
            shape = "words" if words else "name"
            if dialect == "sqlite":
                if words:
                    params["words"] = " ".join(f'"{w}"' for w in words)
            else:
                escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                params["pattern"] = f"%{escaped}%"
                if words:
                    params["words"] = " ".join(words)
    has_ecosystem, has_status = "ecosystem" in params, "status" in params
    # A search evaluates its index lookups once: the count rides along as a
    # window over the same matches. Without a search the ordered index serves
    # the page and stops early; a window count would read every row first.
    count_window = shape is not None
    rows = read(_statement(dialect, has_ecosystem, has_status, shape, count_window), params)
    total = rows[0][5] if count_window and rows else None
    if total is None:
        count_params = {k: v for k, v in params.items() if k not in ("limit", "offset")}
        total = read(_count_statement(dialect, has_ecosystem, has_status, shape), count_params)[0][
            0
        ]
    return {
        "packages": [
            {"name": r[0], "version": r[1], "ecosystem": r[2], "status": r[3], "license": r[4]}
            for r in rows
        ],
        "total": int(total),
        "limit": limit,
        "offset": offset,
    }
