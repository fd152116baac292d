"""Listing and searching package versions, in plain SQL on both backends.

``GET /packages?search=`` must stay fast at a million versions. The indexes
do the matching (SQLite: B-trees of name suffixes and of description words, both
in name order, see migrations 0003 and 0004; PostgreSQL: ``pg_trgm`` and a
``tsvector`` GIN index), and the statement is plain SQL built once per shape and
cached, because building and compiling an expression tree per request costs more
than the indexed lookup. On SQLite the most common search, one word and no
status filter, is answered without visiting every match (:func:`_one_word_page`).

Order: exact name, then name prefix, then the rest; ties by name, ecosystem and
version, highest first. ``total`` counts every match.
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from foss_registry import ecosystems
from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.packages import words
from foss_registry.packages.models import STATUSES
from foss_registry.packages.reads import Reader, field_error

_POSTGRES_WORD = re.compile(r"\w+")
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
# A description has the words when the rarest of them is indexed for its name
# (package_description_words, migration 0004) and its own text has them all.
_SQLITE_DESCRIPTION_IDS = (
    "SELECT v.id FROM package_description_words d JOIN package_versions v "
    "ON v.ecosystem = d.ecosystem AND v.normalized_name = d.normalized_name "
    "WHERE d.word = :rarest AND (:second IS NULL OR EXISTS (SELECT 1 FROM "
    "package_description_words d2 WHERE d2.word = :second AND d2.in_name IN (0, 1) "
    "AND d2.normalized_name = d.normalized_name AND d2.ecosystem = d.ecosystem)) "
    f"AND {words.HAS_WORDS_FUNCTION}(v.description, :words)"
)
_SQLITE_MATCH = {
    False: f"id IN ({_NAME_IDS})",
    True: f"id IN ({_NAME_IDS} UNION {_SQLITE_DESCRIPTION_IDS})",
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
        if len(term) < MIN_SUBSTRING:
            shape = "short"
        elif dialect == "sqlite":
            wanted = words.words(term)
            if status is None and wanted == [term] and term.isascii():
                return _one_word_page(read, params)
            shape = "words" if wanted and _rarest(read, params, wanted) else "name"
        else:
            postgres_words = _POSTGRES_WORD.findall(term)
            shape = "words" if postgres_words else "name"
            escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params["pattern"] = f"%{escaped}%"
            params["words"] = " ".join(postgres_words)
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
    return _result(rows, int(total), limit, offset)


def _result(rows: Sequence[Sequence[Any]], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {
        "packages": [
            {"name": r[0], "version": r[1], "ecosystem": r[2], "status": r[3], "license": r[4]}
            for r in rows
        ],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


def _rarest(read: Reader, params: dict[str, Any], wanted: list[str]) -> bool:
    """Set the description parameters of a SQLite search; False when no description has them."""
    counts = {w: read(_WORD_NAMES, {"word": w})[0][0] for w in wanted}
    rarest, *others = sorted(wanted, key=counts.__getitem__)
    params["rarest"] = rarest
    # The next rarest word leaves out, name by name, what cannot match.
    params["second"] = others[0] if others else None
    params["words"] = " ".join(wanted)
    return bool(counts[rarest])


_WORD_NAMES = "SELECT count(*) FROM package_description_words WHERE word = :word"
# The SQLite search for a term that is one word, answered from the two name-ordered
# indexes without visiting every match. The matches are:
#   P: versions whose name starts with the term (ranks 0 and 1, the name index);
#   A: the other versions whose name contains it (package_name_suffixes: one row
#      per name for the term's last place in it, with the name's version count);
#   B: versions whose description has the word and whose name does not contain it
#      (package_description_words with in_name = 0: a version count per name).
# A and B share no name, and each lists its names in order, so the rest of the
# ranking (rank 2) is a merge of the two by name.
_NAMES_WITH_TERM = (
    "FROM package_name_suffixes WHERE suffix >= :term AND suffix < :term_end "
    "AND instr(substr(suffix, 2), :term) = 0{ecosystem}"
)
_NAMES_WITH_WORD = "FROM package_description_words WHERE word = :term AND in_name = 0{ecosystem}"
_STARTS = "normalized_name >= :term AND normalized_name < :term_end{ecosystem}"


@lru_cache(maxsize=4)
def _one_word_statements(ecosystem: bool) -> dict[str, str]:
    eco = " AND ecosystem = :ecosystem" if ecosystem else ""
    names_with_term = _NAMES_WITH_TERM.format(ecosystem=eco)
    names_with_word = _NAMES_WITH_WORD.format(ecosystem=eco)
    starts = _STARTS.format(ecosystem=eco)
    return {
        "counts": (
            f"SELECT (SELECT count(*) FROM package_versions WHERE {starts}), "
            f"(SELECT coalesce(sum(versions), 0) {names_with_term}), "
            f"(SELECT coalesce(sum(versions), 0) {names_with_word})"
        ),
        "starts": (
            f"SELECT {_COLUMNS} FROM package_versions WHERE {starts} "
            f"ORDER BY {_ORDER} LIMIT :limit OFFSET :offset"
        ),
        "by_name": (
            f"SELECT normalized_name, ecosystem, versions {names_with_term} "
            "AND NOT (normalized_name >= :term AND normalized_name < :term_end) "
            "ORDER BY normalized_name, ecosystem LIMIT :groups"
        ),
        "by_description": (
            f"SELECT normalized_name, ecosystem, versions {names_with_word} "
            "ORDER BY normalized_name, ecosystem LIMIT :groups"
        ),
    }


_GROUP_VERSIONS = (
    f"SELECT {_COLUMNS}, normalized_name, description FROM package_versions "
    "WHERE (ecosystem, normalized_name) IN "
    "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(:groups)) "
    f"ORDER BY {_ORDER}"
)


def _one_word_page(read: Reader, params: dict[str, Any]) -> dict[str, Any]:
    """A SQLite search for a single word, with no status filter (see the statements above)."""
    term, limit, offset = params["term"], params["limit"], params["offset"]
    statements = _one_word_statements("ecosystem" in params)
    starting, by_name, by_description = read(statements["counts"], params)[0]
    total = by_name + by_description
    rows: list[Sequence[Any]] = []
    if offset < starting:
        rows.extend(read(statements["starts"], params))
    wanted = limit - len(rows)
    skip = max(0, offset - starting)
    if wanted > 0 and skip < total - starting:
        # Every name has at least one version: skip + wanted names from each side suffice.
        side = dict(params, groups=skip + wanted)
        merged = heapq.merge(
            ((n, e, count, False) for n, e, count in read(statements["by_name"], side)),
            ((n, e, count, True) for n, e, count in read(statements["by_description"], side)),
        )
        chosen: list[tuple[str, str, int, bool]] = []
        position = first = 0
        for name, eco, count, by_words in merged:
            if position + count > skip:
                if not chosen:
                    first = position
                chosen.append((name, eco, count, by_words))
            position += count
            if position >= skip + wanted:
                break
        rows.extend(_group_rows(read, term, chosen)[skip - first :][:wanted])
    return _result(rows, int(total), limit, offset)


def _group_rows(
    read: Reader, term: str, chosen: list[tuple[str, str, int, bool]]
) -> list[Sequence[Any]]:
    """The matching versions of the chosen names, in order."""
    groups = json.dumps([[eco, name] for name, eco, _count, _by_words in chosen])
    found: dict[tuple[str, str], list[Sequence[Any]]] = {}
    for row in read(_GROUP_VERSIONS, {"groups": groups}):
        found.setdefault((row[5], row[2]), []).append(row)
    rows: list[Sequence[Any]] = []
    for name, eco, count, by_words in chosen:
        versions = found.get((name, eco), [])
        if by_words and len(versions) != count:
            # Only some versions of this name have the word in their description.
            versions = [v for v in versions if words.has_words(v[6], [term])]
        rows.extend(v[:5] for v in versions)
    return rows
