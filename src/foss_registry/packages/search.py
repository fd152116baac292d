"""Listing and searching package versions, in plain SQL on both backends.

``GET /packages?search=`` must stay fast at a million versions. The indexes do
the matching (SQLite: B-trees of name suffixes and of description words, both in
name order, and per-word totals, see migrations 0003 to 0005; PostgreSQL:
``pg_trgm`` and a ``tsvector`` GIN index, migrations 0004 and 0006), and the
statement is plain SQL built once per shape and cached, because building and
compiling an expression tree per request costs more than the indexed lookup. On
SQLite a search for words without a status filter (nearly every search) is
answered without visiting every match (:func:`_words_page`); the rest go through
one SQL statement.

Order, comparing names without case: the name that is the term, then names
starting with it, then the rest; ties by name, ecosystem and version, highest
first. ``total`` counts every match.
"""

from __future__ import annotations

import heapq
import itertools
import json
import operator
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import msgspec

from foss_registry import ecosystems, search_index
from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.packages.models import STATUSES
from foss_registry.packages.records import Reader, field_error

#: Shortest term matched inside names (the shortest suffix indexed; trigrams need three).
MIN_SUBSTRING = search_index.MIN_SUFFIX

_COLUMNS = "name, version, ecosystem, status, license"
_ORDER = "normalized_name, ecosystem, sort_token DESC, id DESC"
# Ranks compare names as searches match them: without case.
_RANK = (
    "CASE WHEN lower(normalized_name) = :term THEN 0 "
    "WHEN lower(normalized_name) >= :term AND lower(normalized_name) < :term_end THEN 1 "
    "ELSE 2 END"
)
# A short term (no suffix or trigram to look up) matches names starting with it,
# without case: each way of writing the term's letters is one range of the name
# index, bound as :start0/:end0 to :start3/:end3 (repeated when fewer).
_PREFIX = (
    "("
    + " OR ".join(f"(normalized_name >= :start{i} AND normalized_name < :end{i})" for i in range(4))
    + ")"
)
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
    f"AND {search_index.HAS_WORDS_FUNCTION}(v.description, :words)"
)
_SQLITE_MATCH = {
    False: f"id IN ({_NAME_IDS})",
    True: f"id IN ({_NAME_IDS} UNION {_SQLITE_DESCRIPTION_IDS})",
}
# PostgreSQL: the expressions of the two GIN indexes (migrations 0004 and 0006).
# foss_search_text makes words as SQLite does: accents dropped, and every run of
# characters other than letters and digits a separator (PostgreSQL's own parser
# would keep "node.js" or "a/b" whole).
_POSTGRES_NAME = "lower(normalized_name)"
_POSTGRES_WORDS = "to_tsvector('simple', foss_search_text(coalesce(description, '')))"
_POSTGRES_MATCH = {
    False: f"{_POSTGRES_NAME} LIKE :pattern ESCAPE '\\'",
    True: (
        f"({_POSTGRES_NAME} LIKE :pattern ESCAPE '\\' OR {_POSTGRES_WORDS} "
        "@@ plainto_tsquery('simple', foss_search_text(:words)))"
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
    params = _filter_params(ecosystem, status, limit, offset)
    term = (search or "").strip().lower()
    if "\x00" in term:
        raise InvalidInputError("The search term contains a null byte.", code="invalid_input")
    shape: str | None = None
    if term:
        params["term"] = term
        params["term_end"] = term + "\uffff"
        if len(term) < MIN_SUBSTRING:
            shape = "short"
            spellings = _spellings(term)
            for i in range(4):
                params[f"start{i}"] = spellings[i % len(spellings)]
                params[f"end{i}"] = spellings[i % len(spellings)] + "\uffff"
        elif dialect == "sqlite":
            wanted = search_index.words(term)
            if "status" not in params and wanted and term.isascii():
                return _words_page(read, params, wanted)
            shape = "words" if wanted and _rarest(read, params, wanted) else "name"
        else:
            # foss_search_text makes the term's words as it makes the descriptions'.
            shape = "words" if search_index.words(term) else "name"
            escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params["pattern"] = f"%{escaped}%"
            params["words"] = term
    return _page_of(read, dialect, params, shape)


def _filter_params(
    ecosystem: str | None, status: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """The statement parameters of the page and the filters (validated: a 400 names the field)."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if ecosystem is not None:
        try:
            params["ecosystem"] = ecosystems.get(ecosystem).name
        except InvalidInputError as exc:
            raise field_error(exc, "ecosystem") from None
    status = validate_status(status)
    if status is not None:
        params["status"] = status
    return params


def _page_of(
    read: Reader, dialect: str, params: dict[str, Any], shape: str | None
) -> dict[str, Any]:
    """Read one page of the matches of a statement ``shape`` (None: no search) and the total."""
    has_ecosystem, has_status = "ecosystem" in params, "status" in params
    # A search evaluates its index lookups once: the count rides along as a
    # window over the same matches. Without a search the ordered index serves
    # the page and stops early; a window count would read every row first.
    count_window = shape is not None
    columns = f"{_COLUMNS}, total" if count_window else _COLUMNS
    sql = _statement(dialect, has_ecosystem, has_status, shape, count_window)
    rows = _rows(read, dialect, sql, params, columns)
    total = rows[0][5] if count_window and rows else None
    if total is None:
        count_params = {k: v for k, v in params.items() if k not in ("limit", "offset")}
        count_sql = _count_statement(dialect, has_ecosystem, has_status, shape)
        total = read(count_sql, count_params)[0][0]
    return _result(rows, int(total), params["limit"], params["offset"])


def _spellings(term: str) -> list[str]:
    """Every way of writing a short term's ASCII letters in either case."""
    cases = [(c, c.upper()) if c.isascii() and c.isalpha() else (c,) for c in term]
    return ["".join(chosen) for chosen in itertools.product(*cases)]


def _rows(
    read: Reader, dialect: str, sql: str, params: dict[str, Any], columns: str
) -> Sequence[Sequence[Any]]:
    """The rows of a statement; on SQLite they cross the driver as one JSON value.

    Python's ``sqlite3`` lets go of the GIL and takes it back for every row it
    steps. With several pool threads reading at once each row then costs a GIL
    handoff: a 100-row read took 14 times the CPU at four threads that it takes
    at one. Aggregated into one JSON array (in the statement's order) the rows
    cost one step.
    """
    if dialect != "sqlite":
        return read(sql, params)
    return msgspec.json.decode(read(_as_json(sql, columns), params)[0][0])


@lru_cache(maxsize=64)
def _as_json(sql: str, columns: str) -> str:
    return f"SELECT json_group_array(json_array({columns})) FROM ({sql})"


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


def _by_rarity(read: Reader, wanted: list[str]) -> tuple[list[str], bool]:
    """The words, rarest first, and whether any description has the rarest."""
    counts = {w: read(_WORD_VERSIONS, {"word": w})[0][0] for w in wanted}
    ordered = sorted(wanted, key=counts.__getitem__)
    return ordered, bool(counts[ordered[0]])


def _rarest(read: Reader, params: dict[str, Any], wanted: list[str]) -> bool:
    """Set the description parameters of a SQLite search; False when no description has them."""
    (rarest, *others), found = _by_rarity(read, wanted)
    params["rarest"] = rarest
    # The next rarest word leaves out, name by name, what cannot match.
    params["second"] = others[0] if others else None
    params["words"] = " ".join(wanted)
    return found


# How many versions have the word in their description (totals of migration 0005).
_WORD_VERSIONS = "SELECT coalesce(sum(versions), 0) FROM package_word_totals WHERE word = :word"
# The SQLite search for a term of words (no status filter), answered from the two name-ordered
# indexes without visiting every match. The matches are:
#   A: versions whose name contains the term (package_name_suffixes: the row of the
#      term's first place in the name, whose earlier is shorter than the term,
#      carries the name's version count); those whose name starts with the term
#      (earlier is -1) rank first (ranks 0 and 1);
#   B: versions whose description has the word and whose name does not contain it
#      (package_description_words with in_name = 0: a version count per name).
# A and B share no name and each lists its names in order, so the rest of the
# ranking (rank 2) is a merge of the two by name.
#
# The term's length is written into the statement, not bound: SQLite compares a
# bound "earlier < ?" with the partial index's "earlier < 0" (migration 0005)
# and then prepares the statement again at every execution.
_NAMES_WITH_TERM = (
    "FROM package_name_suffixes WHERE suffix >= :term AND suffix < :term_end "
    "AND earlier < {length}{ecosystem}"
)
_NAMES_WITH_WORD = "FROM package_description_words WHERE word = :term AND in_name = 0{ecosystem}"
# Their count, summed per word and ecosystem (migration 0005).
_VERSIONS_WITH_WORD = "FROM package_word_totals WHERE word = :term AND in_name = 0{ecosystem}"
_STARTS = "earlier < 0"


@lru_cache(maxsize=64)
def _word_statements(ecosystem: bool, length: int) -> dict[str, str]:
    eco = " AND ecosystem = :ecosystem" if ecosystem else ""
    names_with_term = _NAMES_WITH_TERM.format(length=length, ecosystem=eco)
    names_with_word = _NAMES_WITH_WORD.format(ecosystem=eco)
    versions_with_word = _VERSIONS_WITH_WORD.format(ecosystem=eco)

    def first(source: str, order: str, starting: bool = False, limit: str = ":groups") -> str:
        # The first names of a side, as one JSON array (see _rows); a starting
        # name comes with whether it is other than the term itself.
        columns = f"suffix <> :term AS other, {_GROUPS}" if starting else _GROUPS
        names = f"SELECT {columns} {source} ORDER BY {order} LIMIT {limit}"
        values = f"other, {_GROUPS}" if starting else _GROUPS
        return f"SELECT json_group_array(json_array({values})) FROM ({names})"

    # For a name without capitals the suffix is the name: the key lists them in
    # order. Names with capitals sort elsewhere; few, in a partial index (migration 0005).
    starting = (
        f"{names_with_term} AND {_STARTS} AND suffix = normalized_name",
        "suffix, ecosystem",
    )
    folded = (
        f"{names_with_term} AND {_STARTS} AND suffix <> normalized_name",
        "other, normalized_name, ecosystem",
    )
    return {
        # The counts and the first :names names starting with the term, in one
        # statement: each statement costs a round of Python's GIL between threads.
        "opening": (
            f"SELECT json_array((SELECT coalesce(sum(versions), 0) {names_with_term}), "
            f"(SELECT coalesce(sum(versions), 0) {versions_with_word}), "
            f"json(({first(*starting, starting=True, limit=':names')})), "
            f"json(({first(*folded, starting=True, limit=':names')})))"
        ),
        "starting": first(*starting, starting=True),
        "starting_folded": first(*folded, starting=True),
        "described": first(names_with_word, "normalized_name, ecosystem"),
        # Names past :last cannot reach the page: the description side fills it first.
        "containing": first(
            f"{names_with_term} AND NOT {_STARTS} AND (:last IS NULL OR normalized_name <= :last)",
            "normalized_name, ecosystem",
        ),
    }


_GROUPS = "normalized_name, ecosystem, versions"
# Every version of the given names (a JSON array of [ecosystem, name, found by
# description]) with the name's place in that array, as one JSON array; the
# description only where it may be needed. Ordered in Python, cheaper than
# SQLite's sorter for a page.
_GROUP_VERSIONS = (
    "SELECT json_group_array(json_array(g.key, v.name, v.version, v.ecosystem, v.status, "
    "v.license, CASE WHEN json_extract(g.value, '$[2]') THEN v.description END, v.sort_token, "
    "v.id)) FROM json_each(:groups) AS g JOIN package_versions v "
    "ON v.ecosystem = json_extract(g.value, '$[0]') "
    "AND v.normalized_name = json_extract(g.value, '$[1]')"
)
# A row of _GROUP_VERSIONS: the page's fields, the description, the version order.
_FIELDS = slice(1, 6)
_DESCRIPTION = 6
_HIGHEST = operator.itemgetter(7, 8)
#: A name's matching versions: (normalized name, ecosystem, count, found by description).
Group = tuple[str, str, int, bool]
# How many names starting with the term are read first (see _starting).
_FIRST_NAMES = 32


def _words_page(read: Reader, params: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    """A SQLite search for words, with no status filter (see the statements above)."""
    term, limit, offset = params["term"], params["limit"], params["offset"]
    end = offset + limit
    # Every name has at least one version: the first offset + limit names suffice.
    # The names starting with the term are read a few at first (see _starting).
    side = dict(params, groups=end, names=min(end, _FIRST_NAMES))
    statements = _word_statements("ecosystem" in params, len(term))

    def groups(statement: str, by_words: bool) -> list[Group]:
        names = msgspec.json.decode(read(statements[statement], side)[0][0])
        return [(n, e, count, by_words) for n, e, count in names]

    opening = msgspec.json.decode(read(statements["opening"], side)[0][0])
    by_name, by_description, *first_starting = opening
    described: list[Group] | None = None
    if wanted != [term]:
        described = _described_by_all(read, side, wanted)
        by_description = sum(g[2] for g in described)
    first_names = _starting(read, statements, side, first_starting)
    # The versions of names starting with the term; when only the first names
    # were read, at least the page's end, which is all the page needs to know.
    starting = sum(g[2] for g in first_names)
    # Positions before ``skip`` in ``ordered`` are before the page.
    ordered: Iterable[Group] = first_names if offset < starting else []
    skip = offset if offset < starting else offset - starting
    if end > starting:
        # After the names starting with the term, ranked by name alone: names
        # containing it and names described by it.
        if described is None:
            described = groups("described", True)
        side["last"] = _last_needed(described, end - starting)
        ordered = itertools.chain(ordered, heapq.merge(groups("containing", False), described))
    chosen, first = _covering(ordered, skip, skip + limit)
    rows = _group_rows(read, wanted, chosen)[skip - first :][:limit] if chosen else []
    return _result(rows, by_name + by_description, limit, offset)


def _starting(
    read: Reader, statements: dict[str, str], params: dict[str, Any], found: list[list[Any]]
) -> list[Group]:
    """The names starting with the term (the term itself, then in name order), up to the page's end.

    That is all of them, or enough for their versions to reach position
    :groups. ``found`` holds the first :names of them, without and with
    capitals; most names have several versions, so these usually suffice.
    """
    end, names = params["groups"], params["names"]
    first = _merged(found, names)
    if len(first) == names < end and sum(g[2] for g in first) < end:
        found = [
            msgspec.json.decode(read(statements[statement], params)[0][0])
            for statement in ("starting", "starting_folded")
        ]
        first = _merged(found, end)
    return first


def _merged(found: list[list[Any]], names: int) -> list[Group]:
    """The first of two lists of starting names, each in order, merged."""
    merged = itertools.islice(heapq.merge(*found), names)
    return [(name, eco, count, False) for _other, name, eco, count in merged]


@lru_cache(maxsize=16)
def _all_words_statement(count: int, ecosystem: bool) -> str:
    """Names whose descriptions have every one of ``count`` words, and not the term in the name.

    Each name comes with its version count per word and its number of versions.
    """
    joins = "".join(
        f"JOIN package_description_words d{i} ON d{i}.word = :w{i} AND d{i}.in_name IN (0, 1) "
        f"AND d{i}.normalized_name = d0.normalized_name AND d{i}.ecosystem = d0.ecosystem "
        for i in range(1, count)
    )
    counts = ", ".join(f"d{i}.versions" for i in range(count))
    eco = " AND d0.ecosystem = :ecosystem" if ecosystem else ""
    return (
        f"SELECT json_group_array(json_array(d0.normalized_name, d0.ecosystem, {counts}, "
        f"s.versions)) FROM package_description_words d0 {joins}"
        "LEFT JOIN package_name_suffixes s ON s.suffix = lower(d0.normalized_name) "
        "AND s.ecosystem = d0.ecosystem AND s.normalized_name = d0.normalized_name "
        f"WHERE d0.word = :w0 AND d0.in_name IN (0, 1){eco} "
        "AND instr(lower(d0.normalized_name), :term) = 0"
    )


def _described_by_all(read: Reader, params: dict[str, Any], wanted: list[str]) -> list[Group]:
    """The names (in order) whose descriptions have all the words but whose name lacks the term.

    A name's count of matching versions is exact from the index when at most one
    word misses some of its versions; otherwise its descriptions are read.
    """
    ordered, found_any = _by_rarity(read, wanted)
    if not found_any:
        return []
    words = {f"w{i}": w for i, w in enumerate(ordered)}
    sql = _all_words_statement(len(ordered), "ecosystem" in params)
    found = msgspec.json.decode(read(sql, params | words)[0][0])
    groups: list[Group] = []
    unsure: list[Group] = []
    for name, eco, *counts, versions in found:
        missing = [c for c in counts if versions is None or c < versions]
        if versions is not None and len(missing) <= 1:
            groups.append((name, eco, min(counts), True))
        else:
            unsure.append((name, eco, 0, True))
    for (name, eco, _count, _by_words), versions in zip(
        unsure, _group_versions(read, unsure), strict=True
    ):
        count = sum(search_index.has_words(v[_DESCRIPTION], wanted) for v in versions)
        if count:
            groups.append((name, eco, count, True))
    groups.sort()
    return groups


def _last_needed(groups: list[Group], end: int) -> str | None:
    """The name at which these groups alone reach position end (None if they never do)."""
    position = 0
    for group in groups:
        position += group[2]
        if position >= end:
            return group[0]
    return None


def _covering(ordered: Iterable[Group], start: int, end: int) -> tuple[list[Group], int]:
    """The groups that hold positions start to end - 1, and the position of the first."""
    chosen: list[Group] = []
    position = first = 0
    for group in ordered:
        if position + group[2] > start:
            if not chosen:
                first = position
            chosen.append(group)
        position += group[2]
        if position >= end:
            break
    return chosen, first


def _group_versions(read: Reader, chosen: list[Group]) -> list[list[Sequence[Any]]]:
    """Every version of each chosen name, highest first (rows of _GROUP_VERSIONS)."""
    groups = json.dumps([[eco, name, by_words] for name, eco, _count, by_words in chosen])
    found: list[list[Sequence[Any]]] = [[] for _ in chosen]
    for row in msgspec.json.decode(read(_GROUP_VERSIONS, {"groups": groups})[0][0]):
        found[row[0]].append(row)
    for versions in found:
        versions.sort(key=_HIGHEST, reverse=True)
    return found


def _group_rows(read: Reader, wanted: list[str], chosen: list[Group]) -> list[Sequence[Any]]:
    """The matching versions of the chosen names, in order."""
    rows: list[Sequence[Any]] = []
    for (_name, _eco, count, by_words), versions in zip(
        chosen, _group_versions(read, chosen), strict=True
    ):
        if by_words and len(versions) != count:
            # Only some versions of this name have the words in their description.
            versions = [v for v in versions if search_index.has_words(v[_DESCRIPTION], wanted)]
        rows.extend(v[_FIELDS] for v in versions)
    return rows
