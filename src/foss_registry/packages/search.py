"""Listing and searching package versions, in plain SQL on both backends.

What a search matches and in what order is stated once, in
:mod:`foss_registry.search_index` (the rules); this module makes the indexes
answer those rules fast. ``GET /packages?search=`` must cost about the page it
answers, not the number of matches, at a million versions:

- SQLite, a term of three characters or more (:func:`_words_page`): the names
  that match, read in order from the name suffix and description word indexes
  (migrations 0003 to 0005), only as far as the page reaches; ``total`` from
  per-name and per-word version counts (per status: migrations 0016 and 0018), and for
  several common words, or one with a status filter, from the kept word sets
  (:mod:`.word_sets`, migrations 0016, 0017 and 0023); the page of a kept set
  that few names have from its kept names (migration 0028).
- SQLite, a term of one or two characters (:func:`_short_page`): the names that
  start with it, read in order from the name index as far as the page reaches;
  ``total`` from the per-prefix counts of migration 0016, by ecosystem and status.
- SQLite, filters alone: the name index in order; ``total`` from the per-prefix
  counts.
- SQLite, a term without words (such as ``---``): one SQL statement with the
  count as a window over the matches.
- PostgreSQL: :mod:`.search_postgres`.

Statements are plain SQL built once per shape and cached, because building and
compiling an expression tree per request costs more than the indexed lookup.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from functools import lru_cache
from typing import Any

import msgspec

from foss_registry import ecosystems, search_index
from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.packages import name_terms, search_postgres, word_sets
from foss_registry.packages.models import STATUSES
from foss_registry.packages.records import (
    PackageList,
    PackageSummary,
    Reader,
    Steps,
    field_error,
)

#: Shortest term matched inside names (the shortest suffix indexed; trigrams need three).
MIN_SUBSTRING = search_index.MIN_SUFFIX

#: The fields of a listed version, in the order the answer shows them.
LISTED: tuple[str, ...] = PackageSummary.__struct_fields__
_COLUMNS = ", ".join(LISTED)
_ORDER = "normalized_name, ecosystem, sort_token DESC, id DESC"
# Ranks compare names as searches match them: without case.
_RANK = (
    "CASE WHEN lower(normalized_name) = :term THEN 0 "
    "WHEN lower(normalized_name) >= :term AND lower(normalized_name) < :term_end THEN 1 "
    "ELSE 2 END"
)
# SQLite: a name matches when one of its suffixes starts with the term (the
# suffix index of migration 0003). Only a term without words (such as "---") is
# searched this way: terms with words are answered by _words_page.
_NAME_IDS = (
    "SELECT v.id FROM package_name_suffixes s JOIN package_versions v "
    "ON v.ecosystem = s.ecosystem AND v.normalized_name = s.normalized_name "
    "WHERE s.suffix >= :term AND s.suffix < :term_end"
)


#: How long a search waits for its word set to be kept, by default, before counting the
#: long way (seconds at a million versions; counting the long way costs a second a search).
KEEP_WAIT = 30.0


class CountPending(Exception):
    """A search's word set is being kept, and the search was asked not to wait for it."""

    def __init__(self, counting: Future[None]) -> None:
        super().__init__("the counts of the search's word set are being kept")
        #: The count under way (done once the set is kept, or given up).
        self.counting = counting


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


def _condition(ecosystem: bool, status: bool, term: str | None) -> str:
    """The WHERE clause of one shape of request (empty without filters or term)."""
    where = []
    if ecosystem:
        where.append("ecosystem = :ecosystem")
    if status:
        where.append("status = :status")
    if term is not None:
        where.append(f"id IN ({_NAME_IDS})")
    return f" WHERE {' AND '.join(where)}" if where else ""


@lru_cache(maxsize=64)
def _statement(
    dialect: str, ecosystem: bool, status: bool, term: str | None, count_window: bool
) -> str:
    """The SQL of one shape of request; ``term`` is "name" (or None)."""
    condition = _condition(ecosystem, status, term)
    order = f"{_RANK}, {_ORDER}" if term is not None else _ORDER
    columns = f"{_COLUMNS}, count(*) OVER () AS total" if count_window else _COLUMNS
    if dialect == "sqlite" and term is None:
        # A listing finds its page's ids first, in an index where it can (filtered by
        # status: ix_package_versions_status_name), and reads only those rows: rows
        # before the offset are passed over in the index, not read whole.
        ids = f"SELECT id FROM package_versions{condition} ORDER BY {order} "
        return (
            f"SELECT {columns} FROM package_versions WHERE id IN ({ids}"
            f"LIMIT :limit OFFSET :offset) ORDER BY {order}"
        )
    page = f"SELECT {columns} FROM package_versions{condition} ORDER BY {order} "
    page += "LIMIT :limit OFFSET :offset"
    return page


@lru_cache(maxsize=64)
def _count_statement(ecosystem: bool, status: bool, term: str | None) -> str:
    return f"SELECT count(*) FROM package_versions{_condition(ecosystem, status, term)}"


def list_packages(
    read: Reader,
    dialect: str,
    *,
    search: str | None = None,
    ecosystem: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
    wait: float | None = KEEP_WAIT,
    keep: Callable[[dict[str, Any]], None] | None = None,
    snapshot: Callable[[], None] | None = None,
) -> PackageList:
    """List or search package versions; ``total`` counts every match.

    ``snapshot``, on SQLite: called before the first statement of a list or
    search that runs several, for a caller whose reads are not in a
    transaction already (several statements must read one snapshot); a
    listing, or a search of one or two characters, is one statement and
    reads its own.

    A SQLite search whose word set is being kept waits up to ``wait`` seconds
    for that count, then counts the long way; with ``wait`` None it raises
    :class:`CountPending` at once instead, for a caller that can wait without
    holding its thread. On PostgreSQL ``keep`` keeps a word set (see
    :func:`.search_postgres.page`).
    """
    params = _filter_params(ecosystem, status, limit, offset)
    term = _term(search)
    if dialect != "sqlite":
        return search_postgres.page(read, params, term, keep)
    if not term:
        return _listing(read, params)
    params["term"] = term
    params["term_end"] = term + "\uffff"
    if len(term) < MIN_SUBSTRING:
        return _short_page(read, params)
    # Every other shape runs several statements.
    if snapshot is not None:
        snapshot()
    wanted = search_index.words(term)
    if wanted:
        return _words_page(read, params, wanted, wait)
    return _page_of(read, dialect, params, "name")


def postgres_steps(
    search: str | None, ecosystem: str | None, status: str | None, limit: int, offset: int
) -> Steps[PackageList]:
    """A PostgreSQL list or search as the statements it runs (:mod:`.search_postgres`).

    Bad input raises InvalidInputError at once, before any statement.
    """
    params = _filter_params(ecosystem, status, limit, offset)
    return search_postgres.page_steps(params, _term(search))


def _term(search: str | None) -> str:
    if search is not None and "\x00" in search:
        raise InvalidInputError("The search term contains a null byte.", code="invalid_input")
    return search_index.search_term(search)


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


def _page_of(read: Reader, dialect: str, params: dict[str, Any], shape: str) -> PackageList:
    """Read one page of the matches of a statement ``shape`` and the total.

    The statement evaluates its index lookups once: the count rides along as a
    window over the same matches (counted apart only for a page past the end).
    """
    has_ecosystem, has_status = "ecosystem" in params, "status" in params
    sql = _statement(dialect, has_ecosystem, has_status, shape, True)
    rows, total = _rows(read, dialect, sql, params, True)
    if total is None:
        count_params = {k: v for k, v in params.items() if k not in ("limit", "offset")}
        total = read(_count_statement(has_ecosystem, has_status, shape), count_params)[0][0]
    return _result(rows, int(total), params["limit"], params["offset"])


def _listing(read: Reader, params: dict[str, Any]) -> PackageList:
    """A SQLite listing (filters alone), its page and its total in one statement.

    The name index (or the status one) serves the page in order and stops
    early; the total is summed from the per-prefix counts.
    """
    has_ecosystem, has_status = "ecosystem" in params, "status" in params
    sql = _listing_statement(has_ecosystem, has_status)
    total, rows = msgspec.json.decode(read(sql, params)[0][0])
    listed = [PackageSummary(*row) for row in rows]
    return _result(listed, total, params["limit"], params["offset"])


@lru_cache(maxsize=4)
def _listing_statement(ecosystem: bool, status: bool) -> str:
    # The page is read only when the total reaches it: an ecosystem and a status that
    # no version has together (docker and rejected in a catalogue without images)
    # otherwise walked every version in the status, 23 ms at a million, to find none.
    rows = _as_json(_statement("sqlite", ecosystem, status, None, False), LISTED)
    return (
        "SELECT json_array(t.total, CASE WHEN t.total > :offset THEN json(("
        f"{rows})) ELSE json_array() END) FROM (SELECT ({_FILTERED_TOTAL[ecosystem, status]}) "
        "AS total) AS t"
    )


# SQLite: the one-character name prefixes part every version once (migration 0016).
_FILTERED_TOTAL = {
    (ecosystem, status): (
        "SELECT coalesce(sum(versions), 0) FROM package_name_prefix_totals "
        "WHERE length(prefix) = 1"
        + (" AND ecosystem = :ecosystem" if ecosystem else "")
        + (" AND status = :status" if status else "")
    )
    for ecosystem in (False, True)
    for status in (False, True)
}


def _rows(
    read: Reader, dialect: str, sql: str, params: dict[str, Any], with_total: bool
) -> tuple[list[PackageSummary], int | None]:
    """The rows of a statement and the total it counted (if ``with_total``, else None).

    The statement lists the columns named as the fields of :class:`PackageSummary`, in
    their order (then ``total``), so each row is read by those names. On SQLite the
    rows cross the driver as one JSON value.

    Python's ``sqlite3`` lets go of the GIL and takes it back for every row it
    steps. With several pool threads reading at once each row then costs a GIL
    handoff: a 100-row read took 14 times the CPU at four threads that it takes
    at one. Aggregated into one JSON array (in the statement's order) the rows
    cost one step.
    """
    names = (*LISTED, "total") if with_total else LISTED
    if dialect == "sqlite":
        rows = msgspec.json.decode(read(_as_json(sql, names), params)[0][0])
    else:
        rows = read(sql, params)
    listed = len(LISTED)
    total = rows[0][listed] if with_total and rows else None
    return [PackageSummary(*row[:listed]) for row in rows], total


@lru_cache(maxsize=64)
def _as_json(sql: str, names: tuple[str, ...]) -> str:
    return f"SELECT json_group_array(json_array({', '.join(names)})) FROM ({sql})"


def _result(rows: list[PackageSummary], total: int, limit: int, offset: int) -> PackageList:
    return PackageList(packages=rows, total=total, limit=limit, offset=offset)


# --- SQLite: terms of one or two characters ---------------------------------------------------

# Versions whose name starts with one spelling of the term, in order, as far as
# the page reaches; and their count from the per-prefix totals (migration 0016).
_SHORT_ROWS = (
    "SELECT json_group_array(json_array({columns})) "
    "FROM (SELECT * FROM package_versions WHERE normalized_name >= :start{i} "
    "AND normalized_name < :end{i}{filters} ORDER BY " + _ORDER + " LIMIT :groups)"
)
_SHORT_TOTAL = (
    "SELECT coalesce(sum(versions), 0) FROM package_name_prefix_totals WHERE prefix = :term"
)


@lru_cache(maxsize=64)
def _short_statement(spellings: int, ecosystem: bool, status: bool) -> str:
    filters = (" AND ecosystem = :ecosystem" if ecosystem else "") + (
        " AND status = :status" if status else ""
    )
    columns = ", ".join(_ShortRow.__struct_fields__)
    ranges = [
        f"json(({_SHORT_ROWS.format(i=i, filters=filters, columns=columns)}))"
        for i in range(spellings)
    ]
    return f"SELECT json_array(({_SHORT_TOTAL}{filters}), json_array({', '.join(ranges)}))"


class _ShortRow(msgspec.Struct, frozen=True, array_like=True):
    """A version found by a short term: the listed fields and the name it is ordered by.

    Read from a JSON array of the columns named as its fields, in their order.
    """

    name: str
    version: str
    ecosystem: str
    status: str
    license: str | None
    normalized_name: str


_SHORT_ANSWER = msgspec.json.Decoder(tuple[int, list[list[_ShortRow]]])


def _short_page(read: Reader, params: dict[str, Any]) -> PackageList:
    """A SQLite search for one or two characters: the names starting with them."""
    term, limit, offset = params["term"], params["limit"], params["offset"]
    spellings = search_index.spellings(term)
    side = dict(params, groups=offset + limit)
    for i, spelling in enumerate(spellings):
        side[f"start{i}"], side[f"end{i}"] = spelling, spelling + "\uffff"
    sql = _short_statement(len(spellings), "ecosystem" in params, "status" in params)
    total, found = _SHORT_ANSWER.decode(read(sql, side)[0][0])
    # The name that is the term first (the first of its spelling's range), then by name.
    merged = heapq.merge(
        *found,
        key=lambda r: (search_index.ascii_lower(r.normalized_name) != term, r.normalized_name),
    )
    rows = [_listed(r) for r in itertools.islice(merged, offset, offset + limit)]
    return _result(rows, total, limit, offset)


# --- SQLite: terms of three characters or more ------------------------------------------------


def _by_rarity(counted: list[list[Any]]) -> tuple[list[str], list[int]]:
    """The words, rarest first, and how many versions have each in their description.

    ``counted`` holds [word, versions] pairs, as the opening statement gives them.
    """
    counts: dict[str, int] = dict(counted)
    ordered = sorted(counts, key=counts.__getitem__)
    return ordered, [counts[w] for w in ordered]


# How many versions have each word of :word_list in their description (totals of
# migration 0005), as [word, versions] pairs.
_WORD_VERSIONS = (
    "SELECT json_group_array(json_array(j.value, (SELECT coalesce(sum(t.versions), 0) "
    "FROM package_word_totals t WHERE t.word = j.value))) FROM json_each(:word_list) AS j"
)
# The kept counts of the word set :set_key (none unless kept), as [words, in_name,
# ecosystem, status, versions] rows.
_KEPT_TOTALS = (
    "SELECT json_group_array(json_array(words, in_name, ecosystem, status, versions)) "
    f"FROM ({word_sets.KEPT_TOTALS})"
)
# The SQLite search for a term of words, answered from the two name-ordered
# indexes without visiting every match. The matches are:
#   A: versions whose name contains the term (package_name_suffixes: the row of the
#      term's first place in the name, whose earlier is shorter than the term,
#      carries the name's version count); those whose name starts with the term
#      (earlier is -1) rank first (ranks 0 and 1);
#   B: versions whose description has the words and whose name does not contain the
#      term (for a term of one word, package_description_words with in_name = 0: a
#      version count per name; for several, see _described_by_all).
# A and B share no name and each lists its names in order, so the rest of the
# ranking (rank 2) is a merge of the two by name. With a status filter a name's
# count is its versions in that status (carried by its suffix rows, migration
# 0018; by package_name_statuses, migration 0016, for a name found by words).
#
# The term's length is written into the statement, not bound: SQLite compares a
# bound "earlier < ?" with the partial index's "earlier < 0" (migration 0005)
# and then prepares the statement again at every execution.
_NAMES_WITH_TERM = (
    "FROM package_name_suffixes AS o WHERE suffix >= :term AND suffix < :term_end "
    "AND earlier < {length}{ecosystem}"
)


def _in_status(status: str) -> str:
    """A name's versions in a status, from one of its suffix rows (o): a column per status.

    Named in the statement, not chosen by a CASE on :status for each row (a
    quarter of the time of summing a term's 2,000 names); the status is one
    of :data:`STATUSES`, validated.
    """
    assert status in STATUSES
    return f"o.{status}"


# The same from package_name_statuses, for a name's row of package_description_words (d0).
_WORDS_IN_STATUS = (
    "(SELECT coalesce(sum(t.versions), 0) FROM package_name_statuses t WHERE t.ecosystem = "
    "d0.ecosystem AND t.normalized_name = d0.normalized_name AND t.status = :status)"
)
_NAMES_WITH_WORD = "FROM package_description_words WHERE word = :term AND in_name = 0{ecosystem}"
# Their count, summed per word and ecosystem (migration 0005).
_VERSIONS_WITH_WORD = "FROM package_word_totals WHERE word = :term AND in_name = 0{ecosystem}"
_STARTS = "earlier < 0"


def _kept_names(table: str, ecosystem: bool) -> str:
    """A table of kept names (a term's, a word set's), in one ecosystem through its index by it.

    The index is named: the planner knows nothing of the kept names when they
    were empty at the last ANALYZE, and read them through the primary key in
    name order, testing the ecosystem row by row: every PyPI and npm name
    containing "http" before the first Maven one (1.4 ms; 0.11 ms through the
    index). Each row counts its name's versions per status; ``versions`` sums them.
    """
    named = f"{table} INDEXED BY ix_{table}_ecosystem" if ecosystem else table
    return f"(SELECT *, pending + approved + rejected AS versions FROM {named}) AS o"


@lru_cache(maxsize=64)
def _word_statements(ecosystem: bool, status: str | None, length: int) -> dict[str, str]:
    eco = " AND ecosystem = :ecosystem" if ecosystem else ""
    versions = _in_status(status) if status else "versions"
    groups = _GROUPS.replace("versions", f"{versions} AS versions") if status else _GROUPS
    # Only names with versions in the status: each name read then has a version to show.
    in_status = f" AND {versions} > 0" if status else ""
    all_with_term = _NAMES_WITH_TERM.format(length=length, ecosystem=eco)
    names_with_term = all_with_term + in_status
    names_with_word = _NAMES_WITH_WORD.format(ecosystem=eco)
    versions_with_word = _VERSIONS_WITH_WORD.format(ecosystem=eco)

    def first(source: str, order: str, starting: bool = False, limit: str = ":groups") -> str:
        # The first names of a side, as one JSON array (see _rows); a starting
        # name comes with whether it is other than the term itself.
        columns = f"suffix <> :term AS other, {groups}" if starting else groups
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
    kept = "EXISTS (SELECT 1 FROM package_name_terms WHERE term = :term)"
    # The names containing the term further on than the start, in name order: a kept
    # term's from its rows (migration 0027), as far as the page reaches; another's
    # (inside few names) sorted from the term's first place in each name.
    kept_names = first(
        f"FROM {_kept_names('package_name_term_names', ecosystem)} "
        f"WHERE term = :term AND place = 2{eco}{in_status}",
        "normalized_name, ecosystem",
    )
    walked = first(f"{names_with_term} AND NOT {_STARTS}", "normalized_name, ecosystem")
    containing = f"SELECT CASE WHEN {kept} THEN ({kept_names}) ELSE ({walked}) END"
    described = first(names_with_word, "normalized_name, ecosystem")
    # A kept word set's names whose name lacks the term (migration 0028), as far as
    # the page reaches.
    set_names = first(
        f"FROM {_kept_names('package_word_set_names', ecosystem)} WHERE words = :set_key{eco} "
        f"AND instr(lower(normalized_name), :term) = 0{in_status}",
        "normalized_name, ecosystem",
    )
    # The first :names names starting with the term, without and with capitals, read
    # once for the opening's lists of them and for its sum of their versions.
    first_names = ", ".join(
        f"{name} AS MATERIALIZED (SELECT suffix <> :term AS other, {groups} {source} "
        f"ORDER BY {order} LIMIT :names)"
        for name, (source, order) in (("first_plain", starting), ("first_folded", folded))
    )
    listed = "SELECT json_group_array(json_array(other, normalized_name, ecosystem, versions))"
    # The versions whose name contains the term: kept (migration 0026), else summed
    # over its names, with whether it is kept.
    in_kept = " AND status = :status" if status else ""
    by_name = (
        f"json_array({kept}, CASE WHEN {kept} THEN (SELECT coalesce(sum(versions), 0) "
        f"FROM package_name_term_totals WHERE term = :term{eco}{in_kept}) "
        f"ELSE (SELECT coalesce(sum({versions}), 0) {all_with_term}) END)"
    )
    return {
        "with": f"WITH {first_names} ",
        # The counts and the first :names names starting with the term, in one
        # statement: each statement costs a round of Python's GIL between threads.
        "opening": (
            f"json({by_name}), "
            f"(SELECT coalesce(sum(versions), 0) {versions_with_word}), "
            f"json(({listed} FROM first_plain)), json(({listed} FROM first_folded))"
        ),
        "starting": first(*starting, starting=True),
        "starting_folded": first(*folded, starting=True),
        "described": described,
        "set_names": set_names,
        "containing": containing,
        # Whether the first names starting with the term fall short of :groups
        # versions (then what follows them is read too: see _words_page).
        "short": (
            "(SELECT coalesce(sum(versions), 0) FROM first_plain) "
            "+ (SELECT coalesce(sum(versions), 0) FROM first_folded) < :groups"
        ),
    }


_GROUPS = "normalized_name, ecosystem, versions"


@lru_cache(maxsize=64)
def _opening_statement(with_: str, opening: str, containing: str | None) -> str:
    """The first statement of a search for words: the values ``opening`` lists, as one JSON array.

    With ``containing`` (:func:`_containing_statement`), also
    what a search of several words, or of one with a status filter, needs
    before its page: how many descriptions have each word of :word_list
    (``_WORD_VERSIONS``), the kept counts of their set (``_KEPT_TOTALS``), and
    the names containing the term whose descriptions have every word. One
    statement, not one per word and part: each costs a round of Python's GIL
    between the threads of a busy server. ``with_`` names the first names
    starting with the term, which ``opening`` reads.
    """
    if containing is not None:
        opening += f", json(({_WORD_VERSIONS})), json(({_KEPT_TOTALS})), json(({containing}))"
    return f"{with_}SELECT json_array({opening})"


# Every version of the given names (a JSON array of [ecosystem, name, whether only
# some versions may match]) with the name's place in that array, as one JSON array;
# the description only where it may be needed. Ordered in Python, cheaper than
# SQLite's sorter for a page.
class _Version(msgspec.Struct, frozen=True, array_like=True):
    """A version of a chosen name: a row of ``_GROUP_VERSIONS``, a JSON array in field order."""

    group: int  # the name's place among the chosen names
    name: str
    version: str
    ecosystem: str
    status: str
    license: str | None
    description: str | None  # only for names of which only some versions may match
    sort_token: str
    id: int


_VERSIONS = msgspec.json.Decoder(list[_Version])


def _listed(row: _ShortRow | _Version) -> PackageSummary:
    """A version read by a search statement, as an answer lists it."""
    return PackageSummary(
        name=row.name,
        version=row.version,
        ecosystem=row.ecosystem,
        status=row.status,
        license=row.license,
    )


# The SQL of each field of _Version; the statement lists them in the Struct's order.
_VERSION_SQL = {
    "group": "g.key",
    "description": "CASE WHEN json_extract(g.value, '$[2]') THEN v.description END",
}
_GROUP_VERSIONS = (
    "SELECT json_group_array(json_array("
    + ", ".join(_VERSION_SQL.get(f, f"v.{f}") for f in _Version.__struct_fields__)
    + ")) FROM json_each(:groups) AS g "
    "JOIN package_versions v ON v.ecosystem = json_extract(g.value, '$[0]') "
    "AND v.normalized_name = json_extract(g.value, '$[1]') "
    "WHERE :status IS NULL OR v.status = :status"
)


def _json_text(value: Any) -> str:
    """A statement's JSON parameter, as text (as bytes SQLite would bind a blob).

    msgspec writes the same JSON as the json module in a tenth of its time.
    """
    return msgspec.json.encode(value).decode()


def _highest_first(version: _Version) -> tuple[str, int]:
    return version.sort_token, version.id


#: A name's matching versions: (normalized name, ecosystem, count, whether only some of its
#: versions may match: found by description, their descriptions are then read to tell).
Group = tuple[str, str, int, bool]
#: How many names starting with the term are read first (see _starting).
FIRST_NAMES = 32


#: The words of each set of several searched for lately, rarest first (as the opening
#: statement counted them): the next search of the set reads its first names in the
#: opening, walking the word found rarest then. Only a guess: any word of a set finds
#: the names that have them all (at most MAX_GUESSES sets; then it starts over).
_RAREST_FIRST: dict[str, list[str]] = {}
MAX_GUESSES = 4096


def _remember_rarest(key: str, ordered: list[str]) -> None:
    if _RAREST_FIRST.get(key) != ordered:
        if len(_RAREST_FIRST) >= MAX_GUESSES:
            _RAREST_FIRST.clear()
        _RAREST_FIRST[key] = ordered


def _words_page(
    read: Reader, params: dict[str, Any], wanted: list[str], wait: float | None
) -> PackageList:
    """A SQLite search for words (see the statements above)."""
    term, limit, offset = params["term"], params["limit"], params["offset"]
    end = offset + limit
    # Every name has at least one version: the first offset + limit names suffice.
    # The names starting with the term are read a few at first (see _starting);
    # with a status filter a name counts only some of its versions: all at once.
    names = end if "status" in params else min(end, FIRST_NAMES)
    side = dict(params, groups=end, names=names)
    side.setdefault("status", None)
    statements = _word_statements("ecosystem" in params, params.get("status"), len(term))

    # A name's versions with one word counted by status need a kept set (or a walk).
    several = wanted != [term] or side["status"] is not None
    containing = _containing_statement(side, wanted, len(term)) if several else None
    # The words rarest first, as the last search of them found (see _RAREST_FIRST).
    guess = _RAREST_FIRST.get(word_sets.key(wanted)) if several else None
    walk = guess or wanted
    if several:
        side |= {"word_list": _json_text(wanted), "set_key": word_sets.key(wanted)}
        # Whether the term holds every word as it is (not so for "für", whose word is "fur").
        side["words_in_term"] = all(word in term for word in wanted)
        side |= _walk_params(walk)
    # What follows the names starting with the term is read by the opening too,
    # unless those reach the page's end: for several words, as the walk of the
    # rarest word guessed, which must be the word the page then walks.
    follows = not several or guess is not None
    opening_sql = statements["opening"]
    if follows:
        sql = _following_sql(statements, params, len(walk) if several else 0)
        opening_sql += f", CASE WHEN {statements['short']} THEN json(({sql})) END"
    opening_sql = _opening_statement(statements["with"], opening_sql, containing)
    opening = msgspec.json.decode(read(opening_sql, side)[0][0])
    (kept_term, by_name), by_description, *first_starting = opening[:4]
    if not kept_term and by_name >= name_terms.KEPT_TERMS_FROM:
        _keep_term(read, term)
    followed = opening[4] if follows else None
    ordered = wanted
    if several:
        counted, kept, found = opening[5:] if follows else opening[4:]
        ordered, counts = _by_rarity(counted)
        _remember_rarest(word_sets.key(wanted), ordered)
        by_description = _described_total(read, side, ordered, counts, (kept, found), wait)
    first_names = _starting(read, statements, side, first_starting)
    # The versions of names starting with the term; when only the first names
    # were read, at least the page's end, which is all the page needs to know.
    starting = sum(g[2] for g in first_names)
    # Positions before ``skip`` in ``ordered`` are before the page.
    in_order: Iterable[Group] = first_names if offset < starting else []
    skip = offset if offset < starting else offset - starting
    if end > starting:
        # After the names starting with the term, ranked by name alone: names
        # containing it and names described by it, read first in one statement
        # (by the opening, for one word or for several whose rarest was guessed).
        if followed is None:
            walk = ordered
            sql = _following_sql(statements, params, len(walk) if several else 0)
            followed = msgspec.json.decode(read(sql, side | _walk_params(walk))[0][0])
        containing, first_described = followed
        described: Iterator[Group] = (
            _described_by_all(read, side, walk, first_described)
            if several
            else iter([(n, e, count, True) for n, e, count in first_described])
        )
        needed = _reaching(described, end - starting)
        names = [(n, e, count, False) for n, e, count in containing]
        in_order = itertools.chain(in_order, heapq.merge(names, needed))
    chosen, first = _covering(in_order, skip, skip + limit)
    rows = (
        _group_rows(read, wanted, chosen, side["status"])[skip - first :][:limit] if chosen else []
    )
    return _result(rows, by_name + by_description, limit, offset)


def _keep_term(read: Reader, term: str) -> None:
    """Keep the counts of a term inside many names, in the background (next searches read them)."""
    database = _database_file(read)
    if database:
        name_terms.keep(database, term)


def _following_sql(statements: dict[str, str], params: dict[str, Any], words: int) -> str:
    """The statement of what follows the names starting with the term, walking ``words`` words."""
    return _following_statement(
        statements["containing"],
        statements["described"],
        statements["set_names"],
        words,
        "ecosystem" in params,
        "status" in params,
    )


def _walk_params(walk: list[str]) -> dict[str, Any]:
    """The parameters of a walk of ``walk``'s words, the first walked first, a chunk at a time."""
    return {f"w{i}": w for i, w in enumerate(walk)} | {"chunk": FIRST_CHUNK}


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
def _all_words_statement(count: int, ecosystem: bool, status: bool) -> str:
    """The next names whose descriptions have every one of ``count`` words, and not the term.

    In name order after (:after_name, :after_ecosystem), :chunk of them at most,
    among the rows of the rarest word whose ``in_name`` is :in_name (the
    words table's key puts ``in_name`` before the name, so each value is one
    ordered range). Each name comes with its version count per word and its
    number of versions (and with a status filter, its versions in that status).
    """
    joins = "".join(
        f"JOIN package_description_words d{i} ON d{i}.word = :w{i} AND d{i}.in_name = "
        f"{word_sets.IN_NAME.format(name='d0.normalized_name', word=f':w{i}')} "
        f"AND d{i}.normalized_name = d0.normalized_name AND d{i}.ecosystem = d0.ecosystem "
        for i in range(1, count)
    )
    counts = ", ".join(f"d{i}.versions AS c{i}" for i in range(count))
    eco = " AND d0.ecosystem = :ecosystem" if ecosystem else ""
    # In one ecosystem the name alone orders: the range of an index by ecosystem and name
    # (migration 0027), not every name with the word.
    after = (
        "d0.normalized_name > :after_name"
        if ecosystem
        else "(d0.normalized_name, d0.ecosystem) > (:after_name, :after_ecosystem)"
    )
    in_status = _WORDS_IN_STATUS if status else "NULL"
    names = (
        f"SELECT d0.normalized_name AS name, d0.ecosystem AS eco, {counts}, s.versions AS total, "
        f"{in_status} AS in_status FROM package_description_words d0 {joins}"
        "LEFT JOIN package_name_suffixes s ON s.suffix = lower(d0.normalized_name) "
        "AND s.ecosystem = d0.ecosystem AND s.normalized_name = d0.normalized_name "
        f"WHERE d0.word = :w0 AND d0.in_name = :in_name{eco} "
        f"AND {after} "
        # A name without the rarest word (in_name 0) lacks the term that holds it.
        "AND (d0.in_name = 0 AND :words_in_term OR instr(lower(d0.normalized_name), :term) = 0) "
        "ORDER BY d0.normalized_name, d0.ecosystem LIMIT :chunk"
    )
    values = ", ".join(f"c{i}" for i in range(count))
    return (
        f"SELECT json_group_array(json_array(name, eco, in_status, {values}, total)) FROM ({names})"
    )


@lru_cache(maxsize=16)
def _containing_words_statement(
    count: int, ecosystem: bool, status: str | None, length: int
) -> str:
    """The names containing the term whose descriptions have every one of ``count`` words.

    Each comes as :func:`_all_words_statement` gives its names.
    """
    # CROSS JOIN keeps the names containing the term (few) the outer loop.
    joins = "".join(
        f"CROSS JOIN package_description_words d{i} ON d{i}.word = :w{i} AND d{i}.in_name = "
        f"{word_sets.IN_NAME.format(name='o.normalized_name', word=f':w{i}')} "
        f"AND d{i}.normalized_name = o.normalized_name "
        f"AND d{i}.ecosystem = o.ecosystem "
        for i in range(count)
    )
    counts = ", ".join(f"d{i}.versions" for i in range(count))
    eco = " AND o.ecosystem = :ecosystem" if ecosystem else ""
    in_status = _in_status(status) if status else "NULL"
    names = (
        f"SELECT json_group_array(json_array(o.normalized_name, o.ecosystem, {in_status}, "
        f"{counts}, o.versions)) FROM package_name_suffixes o {joins}"
        f"WHERE o.suffix >= :term AND o.suffix < :term_end AND o.earlier < {length}{eco}"
    )
    # Only when every word is in some description (of the ecosystem): "cli-" is inside
    # 25,000 names at a million versions, and no description has the word "cli".
    described = "t.versions > 0" + (" AND t.ecosystem = :ecosystem" if ecosystem else "")
    every_word = (
        "NOT EXISTS (SELECT 1 FROM json_each(:word_list) AS j WHERE NOT EXISTS (SELECT 1 "
        f"FROM package_word_totals t WHERE t.word = j.value AND {described}))"
    )
    return f"SELECT CASE WHEN {every_word} THEN ({names}) ELSE json_array() END"


#: The names a walk of the rarest word reads at first (a first page of 100 needs about
#: 25), and at most at once later.
FIRST_CHUNK = 32
LAST_CHUNK = 8192


@lru_cache(maxsize=64)
def _following_statement(
    containing: str, described: str, set_names: str, words: int, *shape: bool
) -> str:
    """What follows the names starting with the term, as [names containing it, described].

    The names containing the term (the statement ``containing``), then for
    one word (``words`` 0) the names described by it (``described``); for
    several, [the word set's first kept names (``set_names``)] when its
    names are kept, else [null, the first chunk of each range of the
    rarest word :w0] (see :func:`_first_chunks`). One statement: see
    :func:`_opening_statement`.
    """
    if not words:
        following = f"json(({described}))"
    else:
        chunks = ", ".join(f"json(({sql}))" for sql in _first_chunks(words, *shape))
        following = (
            f"CASE WHEN {word_sets.NAMES_KEPT} THEN json_array(json(({set_names}))) "
            f"ELSE json_array(NULL, {chunks}) END"
        )
    return f"SELECT json_array(json(({containing})), {following})"


def _first_chunks(words: int, ecosystem: bool, status: bool) -> list[str]:
    """The statements of the first names of the two ``in_name`` ranges of the rarest word."""
    sql = _all_words_statement(words, ecosystem, status)
    # From the start of each range: no name sorts before ('', '').
    sql = sql.replace(":after_name", "''").replace(":after_ecosystem", "''")
    return [sql.replace(":in_name", str(in_name)) for in_name in (0, 1)]


def _described_by_all(
    read: Reader,
    params: dict[str, Any],
    ordered: list[str],
    first: list[list[list[Any]] | None] | None = None,
) -> Iterator[Group]:
    """The names (in order) whose descriptions have all the words but whose name lacks the term.

    Read as far as the caller takes them: the two ranges of the rarest word
    (``in_name`` 0 and 1), merged. ``first``: what :func:`_following_statement`
    read of them: the set's kept names (which reach the page's end), or null
    and the first chunk of each range.
    """
    if first is not None:
        kept, *first = first
        if kept is not None:
            # Their versions with the words are counted, not which: read with the page.
            return iter([(name, eco, count, True) for name, eco, count in kept])
    words = {f"w{i}": w for i, w in enumerate(ordered)}
    shape = len(ordered), "ecosystem" in params, params["status"] is not None
    if first is None:
        chunks = ", ".join(f"json(({sql}))" for sql in _first_chunks(*shape))
        first_chunk = params | words | {"chunk": FIRST_CHUNK}
        first = msgspec.json.decode(read(f"SELECT json_array({chunks})", first_chunk)[0][0])
    sql = _all_words_statement(*shape)
    return heapq.merge(
        *(
            _described_range(read, params | words, sql, ordered, in_name, found)
            for in_name, found in enumerate(first)
        )
    )


def _described_range(
    read: Reader,
    params: dict[str, Any],
    sql: str,
    wanted: list[str],
    in_name: int,
    found: list[list[Any]],
) -> Iterator[Group]:
    """The names of one ``in_name`` range of the rarest word, chunk by chunk from the first."""
    chunk = FIRST_CHUNK
    while True:
        yield from _resolved(read, params["status"], found, wanted)
        if len(found) < chunk:
            return
        after = (found[-1][0], found[-1][1])
        chunk = min(chunk * 4, LAST_CHUNK)
        following = {"in_name": in_name, "after_name": after[0], "after_ecosystem": after[1]}
        found = msgspec.json.decode(read(sql, params | following | {"chunk": chunk})[0][0])


def _resolved(
    read: Reader, status: str | None, found: list[list[Any]], wanted: list[str]
) -> list[Group]:
    """The groups of names found with their counts per word, in name order, empty ones left out.

    A name's count of matching versions is exact from the index when at most one
    word misses some of its versions (with a status filter: when none does);
    otherwise its descriptions are read.
    """
    exact_missing = 0 if status is not None else 1
    groups: list[Group] = []
    unsure: list[Group] = []
    for name, eco, in_status, *counts, versions in found:
        missing = [c for c in counts if versions is None or c < versions]
        if versions is not None and len(missing) <= exact_missing:
            count = min(counts) if in_status is None else in_status
            if count:
                # When no word misses a version, every version matches: no
                # description of this name needs reading.
                groups.append((name, eco, count, bool(missing)))
        else:
            unsure.append((name, eco, 0, True))
    for (name, eco, _count, _partial), versions in zip(
        unsure, _group_versions(read, unsure, status), strict=True
    ):
        count = sum(search_index.has_words(v.description, wanted) for v in versions)
        if count:
            groups.append((name, eco, count, True))
    groups.sort()
    return groups


def _described_total(
    read: Reader,
    params: dict[str, Any],
    ordered: list[str],
    counts: list[int],
    opened: tuple[Sequence[Sequence[Any]], list[list[Any]]],
    wait: float | None,
) -> int:
    """How many versions have every word in their description and not the term in their name.

    From the kept counts of the word set when it is kept (less the versions of
    names containing the term, which the name side counts: for a term of one
    word, the kept counts of the versions whose name contains it are left
    out, no name is read); otherwise by
    walking every name that has the rarest word, and a set whose rarest word
    is common is then kept for the next search. ``opened``: the kept counts
    and the names containing the term with the words, as the opening
    statement read them.
    """
    if not counts[0]:
        return 0
    kept, containing = opened
    if not kept and counts[0] >= search_index.KEPT_SETS_FROM:
        # Searches asking at once wait for the one count that keeps the set
        # (seconds at a million versions) rather than each count the long way.
        database = _database_file(read)
        adding = word_sets.keep(database, ordered, ordered[0]) if database else None
        if adding is not None:
            if wait is None and not adding.done():
                raise CountPending(adding)
            with contextlib.suppress(TimeoutError):
                adding.result(timeout=wait)
            kept = read(word_sets.KEPT_TOTALS, {"set_key": word_sets.key(ordered)})
    if kept:
        # The set's one word is the term: in_name tells the names containing it.
        one_word = ordered == [params["term"]]
        total = sum(
            versions
            for _words, in_name, eco, status, versions in kept
            if versions
            and not (one_word and in_name)
            and params.get("ecosystem", eco) == eco
            and params["status"] in (None, status)
        )
        if one_word:
            return total
        return total - sum(g[2] for g in _resolved(read, params["status"], containing, ordered))
    return sum(g[2] for g in _described_by_all(read, params, ordered))


def _containing_statement(params: dict[str, Any], wanted: list[str], length: int) -> str:
    """The names containing the term whose descriptions have every word :w0, :w1...

    Each comes as :func:`_all_words_statement` gives its names.
    """
    ecosystem, status = "ecosystem" in params, params["status"]
    if wanted == [params["term"]]:
        # Not needed: the kept counts of a set of one word leave out the
        # versions whose name contains it (and a walk passes over them).
        return "SELECT json_array()"
    return _containing_words_statement(len(wanted), ecosystem, status, length)


def _database_file(read: Reader) -> str | None:
    """The file of the main database a SQLite reader reads (None in memory)."""
    for _seq, name, file in read("PRAGMA database_list", {}):
        if name == "main":
            return str(file) or None
    return None


def _reaching(groups: Iterator[Group], end: int) -> list[Group]:
    """The first groups, up to the one at which they alone reach position end (or all)."""
    taken: list[Group] = []
    position = 0
    for group in groups:
        taken.append(group)
        position += group[2]
        if position >= end:
            break
    return taken


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


def _group_versions(
    read: Reader, chosen: list[Group], status: str | None = None
) -> list[list[_Version]]:
    """Every version of each chosen name (in a status), highest first."""
    if not chosen:
        return []
    groups = _json_text([[eco, name, partial] for name, eco, _count, partial in chosen])
    found: list[list[_Version]] = [[] for _ in chosen]
    params = {"groups": groups, "status": status}
    for version in _VERSIONS.decode(read(_GROUP_VERSIONS, params)[0][0]):
        found[version.group].append(version)
    for versions in found:
        versions.sort(key=_highest_first, reverse=True)
    return found


def _group_rows(
    read: Reader, wanted: list[str], chosen: list[Group], status: str | None
) -> list[PackageSummary]:
    """The matching versions (in a status) of the chosen names, in order."""
    rows: list[PackageSummary] = []
    for (_name, _eco, count, partial), versions in zip(
        chosen, _group_versions(read, chosen, status), strict=True
    ):
        if partial and len(versions) != count:
            # Only some versions of this name have the words in their description.
            versions = [v for v in versions if search_index.has_words(v.description, wanted)]
        rows.extend(_listed(v) for v in versions)
    return rows
