"""Listing and searching package versions on PostgreSQL (SQLite: :mod:`.search`).

A page is a few ordered reads, each limited to the page's end, merged in one
statement: names from their suffixes, descriptions from the GIN index of their
stored words (migration 0019), versions in name order from the name index;
``total`` from the counts migration 0019's trigger keeps (per name and status,
per name prefix, per word, per kept word set).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from foss_registry import search_index
from foss_registry.packages import records, word_sets
from foss_registry.packages.records import PackageList, PackageSummary, Reader, Steps

_COLUMNS = ", ".join(PackageSummary.__struct_fields__)

# What the two GIN indexes hold (migrations 0004, 0006 and 0019): the lower-cased
# name, and the words of the description, stored. foss_search_text makes words as
# SQLite does: accents dropped, and every run of characters other than letters
# and digits a separator (PostgreSQL's own parser would keep "node.js" or "a/b" whole).
_POSTGRES_NAME = "lower(normalized_name)"
_POSTGRES_WORDS = "search_words"
_POSTGRES_QUERY = "plainto_tsquery('simple', foss_search_text(:words))"
_POSTGRES_CONTAINS = f"{_POSTGRES_NAME} LIKE :pattern ESCAPE '\\'"
_POSTGRES_STARTS = f"{_POSTGRES_NAME} LIKE :starts ESCAPE '\\'"
_POSTGRES_EXACT = f"CASE WHEN {_POSTGRES_NAME} = :term THEN 0 ELSE 1 END"
# A branch of a page: its first :reach versions in order, with what orders them.
_POSTGRES_BRANCH = (
    "(SELECT {columns}, normalized_name AS n, sort_token AS s, id AS i, {rank} AS rank "
    "FROM package_versions WHERE {where}{filters} "
    "ORDER BY {order}normalized_name, ecosystem, sort_token DESC, id DESC LIMIT :reach)"
)
# A listing without a term: the name index in order.
_POSTGRES_LISTING = (
    f"SELECT {_COLUMNS} FROM package_versions WHERE true{{filters}} "
    "ORDER BY normalized_name, ecosystem, sort_token DESC, id DESC LIMIT :limit OFFSET :offset"
)
_POSTGRES_PAGE = (
    f"SELECT {_COLUMNS} FROM ({{branches}}) AS found "
    "ORDER BY rank, n, ecosystem, s DESC, i DESC LIMIT :limit OFFSET :offset"
)


def _postgres_filters(ecosystem: bool, status: bool, table: str = "") -> str:
    return (f" AND {table}ecosystem = :ecosystem" if ecosystem else "") + (
        f" AND {table}status = :status" if status else ""
    )


@lru_cache(maxsize=64)
def _postgres_short_page(spellings: int, ecosystem: bool, status: bool) -> str:
    """The names starting with each spelling of a short term, read in name order, merged."""
    filters = _postgres_filters(ecosystem, status)
    branches = " UNION ALL ".join(
        _POSTGRES_BRANCH.format(
            columns=_COLUMNS,
            rank=_POSTGRES_EXACT,
            where=f"normalized_name >= :start{i} AND normalized_name < :end{i}",
            filters=filters,
            # In name order the name that is the spelling comes first: the index's order.
            order="",
        )
        for i in range(spellings)
    )
    return _POSTGRES_PAGE.format(branches=branches)


# The names containing the term: a range of their suffixes (migration 0019).
_POSTGRES_NAMES = (
    "SELECT ecosystem, normalized_name FROM package_name_suffixes "
    "WHERE suffix >= :term AND suffix < :term_end"
)
_POSTGRES_RANGE = "FROM package_name_suffixes s WHERE s.suffix >= :term AND s.suffix < :term_end"
# A name with versions in the status asked for.
_POSTGRES_IN_STATUS = (
    " AND EXISTS (SELECT 1 FROM package_name_statuses t WHERE t.ecosystem = s.ecosystem "
    "AND t.normalized_name = s.normalized_name AND t.status = :status)"
)


@lru_cache(maxsize=64)
def _postgres_term_page(ecosystem: bool, status: bool, described: str | None) -> str:
    """The names starting with a term, then the others containing it or described by it, merged.

    Each of the three parts is its own ordered read, limited to the page's end.
    Every name has a version (in the status asked for), so the first :reach
    names of each name part suffice: those starting with the term in the
    order of their suffixes (a name's whole suffix is the name, unless it has
    capitals: those are read all, few in any catalogue), the others containing
    it sorted by name. The descriptions (``described``) are either "gathered"
    from the word index and sorted, when their matches are few, or found by
    walking the name index and testing each version's stored words.
    """
    filters = _postgres_filters(ecosystem, status)
    in_range = _POSTGRES_RANGE + (" AND s.ecosystem = :ecosystem" if ecosystem else "")
    # A status is looked up for the names in order only until the page is reached:
    # the names are read (and sorted) first, behind OFFSET 0.
    in_status = _POSTGRES_IN_STATUS if status else ""
    starting_names = (
        f"(SELECT s.ecosystem, s.normalized_name {in_range} AND s.suffix = s.normalized_name"
        f"{in_status} ORDER BY s.suffix, s.ecosystem LIMIT :reach) UNION ALL "
        f"(SELECT s.ecosystem, s.normalized_name FROM (SELECT s.ecosystem, s.normalized_name "
        f"{in_range} AND s.suffix = lower(s.normalized_name) AND s.suffix <> s.normalized_name "
        f"OFFSET 0) AS s WHERE true{in_status})"
    )
    containing_names = (
        "SELECT s.ecosystem, s.normalized_name FROM (SELECT DISTINCT s.ecosystem, "
        f"s.normalized_name {in_range} ORDER BY s.normalized_name, s.ecosystem OFFSET 0) AS s "
        f"WHERE NOT lower(s.normalized_name) LIKE :starts ESCAPE '\\'{in_status} "
        "ORDER BY s.normalized_name, s.ecosystem LIMIT :reach"
    )
    branches = [
        _POSTGRES_BRANCH.format(
            columns=_COLUMNS,
            rank=_POSTGRES_EXACT,
            where=f"(ecosystem, normalized_name) IN ({starting_names})",
            filters=filters,
            order="rank, ",
        ),
        _POSTGRES_BRANCH.format(
            columns=_COLUMNS,
            rank="2",
            where=f"(ecosystem, normalized_name) IN ({containing_names})",
            filters=filters,
            order="",
        ),
    ]
    if described is not None:
        words = f"{_POSTGRES_WORDS} @@ {_POSTGRES_QUERY} AND NOT {_POSTGRES_CONTAINS}"
        branch = _POSTGRES_BRANCH.format(
            columns=_COLUMNS, rank="2", where=words, filters=filters, order=""
        )
        if described == "gathered":
            # A materialised CTE: the planner cannot walk the name index for it.
            inner = branch[1 : branch.index(" ORDER BY ")]
            branch = (
                f"(WITH d AS MATERIALIZED ({inner}) SELECT * FROM d "
                "ORDER BY n, ecosystem, s DESC, i DESC LIMIT :reach)"
            )
        branches.append(branch)
    return _POSTGRES_PAGE.format(branches=" UNION ALL ".join(branches))


# Counts kept by migration 0019's trigger.
# The one-character prefixes part every version once.
_ONE = "length(prefix) = 1"
_POSTGRES_PREFIX_TOTAL = (
    "SELECT coalesce(sum(versions), 0) FROM package_name_prefix_totals WHERE {prefix}{filters}"
)
_POSTGRES_NAMES_TOTAL = (
    f"SELECT coalesce(sum(t.versions), 0) FROM (SELECT DISTINCT * FROM ({_POSTGRES_NAMES}) AS s) "
    "AS n JOIN package_name_statuses t ON t.ecosystem = n.ecosystem "
    "AND t.normalized_name = n.normalized_name WHERE true{filters}"
)
# The term's words as the description index holds them, and in how many descriptions each is.
_POSTGRES_WORD_COUNTS = (
    "SELECT w, (SELECT coalesce(sum(versions), 0) FROM package_word_status_totals t "
    "WHERE t.word = w) FROM unnest(tsvector_to_array("
    "to_tsvector('simple', foss_search_text(:words)))) AS w"
)
_POSTGRES_WORD_TOTAL = (
    "SELECT coalesce(sum(versions), 0) FROM package_word_status_totals "
    "WHERE word = :term AND NOT in_name{filters}"
)
_POSTGRES_DESCRIBED = (
    f"SELECT count(*) FROM package_versions WHERE {_POSTGRES_WORDS} @@ {_POSTGRES_QUERY} "
    f"AND {{contains}}{_POSTGRES_CONTAINS}{{filters}}"
)
#: Adds a kept word set (:set_key) and counts it: it writes, seconds at a million versions.
KEEP = "SELECT foss_keep_word_set(:set_key, :word_list, :rarest, :most)"
# A kept set's counts: (ecosystem, status, versions) rows; none for a set not kept.
_POSTGRES_KEPT = (
    "SELECT t.ecosystem, t.status, t.versions FROM package_word_sets s "
    "LEFT JOIN package_word_set_totals t ON t.words = s.words WHERE s.words = :set_key"
)


def page(read: Reader, params: dict[str, Any], term: str) -> PackageList:
    """A list or search on a synchronous reader (see :func:`page_steps`)."""
    return records.run(read, page_steps(params, term))


def page_steps(params: dict[str, Any], term: str) -> Steps[PackageList]:
    """A list or search: pages read in order as far as they reach, kept counts.

    ``params`` holds the page and the filters, validated. The statements are
    yielded one by one (:data:`~foss_registry.packages.records.Steps`): the API
    runs them on an asynchronous connection, prepared; other callers on a
    SQLAlchemy connection. :data:`KEEP` adds a word set (it writes, and takes
    seconds at a million versions).
    """
    shape = has_ecosystem, has_status = "ecosystem" in params, "status" in params
    filters = _postgres_filters(*shape)
    params["reach"] = params["limit"] + params["offset"]
    if not term:
        sql = _POSTGRES_LISTING.format(filters=filters)
        total_sql = _POSTGRES_PREFIX_TOTAL.format(prefix=_ONE, filters=filters)
    elif len(term) < search_index.MIN_SUFFIX:
        spellings = search_index.spellings(term)
        params["term"] = term
        for i, spelling in enumerate(spellings):
            params[f"start{i}"], params[f"end{i}"] = spelling, spelling + "\uffff"
        sql = _postgres_short_page(len(spellings), has_ecosystem, has_status)
        total_sql = _POSTGRES_PREFIX_TOTAL.format(prefix="prefix = :term", filters=filters)
    else:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params |= {"term": term, "term_end": term + "\uffff", "words": term}
        params |= {"pattern": f"%{escaped}%", "starts": f"{escaped}%"}
        counts = [tuple(row) for row in (yield _POSTGRES_WORD_COUNTS, params)]
        # A word no description has (a package name's number, say): names alone match.
        fewest = min((c for _w, c in counts), default=0)
        described = None
        if fewest:
            # Gathering costs about its matches, walking about the versions read per
            # match found, times the page: the same where fewest ** 2 = reach * versions.
            everything = (yield _POSTGRES_PREFIX_TOTAL.format(prefix=_ONE, filters=""), {})[0][0]
            gathered = fewest * fewest <= params["reach"] * everything
            described = "gathered" if gathered else "walked"
        sql = _postgres_term_page(has_ecosystem, has_status, described)
        named_sql = _POSTGRES_NAMES_TOTAL.format(filters=_postgres_filters(*shape, table="t."))
        named = (yield named_sql, params)[0][0]
        total = named + (yield from _postgres_described(params, counts, filters))
        return _result((yield sql, params), total, params)
    rows = yield sql, params
    return _result(rows, (yield total_sql, params)[0][0], params)


def _result(rows: Sequence[Sequence[Any]], total: int, params: dict[str, Any]) -> PackageList:
    return PackageList(
        packages=[PackageSummary(*row) for row in rows],
        total=int(total),
        limit=params["limit"],
        offset=params["offset"],
    )


def _postgres_described(
    params: dict[str, Any], counts: list[tuple[str, int]], filters: str
) -> Steps[int]:
    """How many versions have every word in their description and not the term in their name.

    One word that is the term: its kept count. Several words: the kept count of
    their set, less the versions of names containing the term; a set whose
    rarest word is common is kept at its first search. Otherwise, and for sets
    of rare words, counted through the description index.
    """
    if not counts or min(c for _w, c in counts) == 0:
        return 0
    if [w for w, _c in counts] == [params["term"]]:
        return int((yield _POSTGRES_WORD_TOTAL.format(filters=filters), params)[0][0])
    words = sorted(w for w, _c in counts)
    rarest, fewest = min(counts, key=lambda wc: (wc[1], wc[0]))
    key = {"set_key": " ".join(words)}
    kept = yield _POSTGRES_KEPT, key
    if not kept and fewest >= search_index.KEPT_SETS_FROM and len(words) <= word_sets.MAX_WORDS:
        arguments = key | {"word_list": words, "rarest": rarest, "most": word_sets.MAX_SETS}
        yield KEEP, arguments
        kept = yield _POSTGRES_KEPT, key
    if not kept:
        described = _POSTGRES_DESCRIBED.format(contains="NOT ", filters=filters)
        return int((yield described, params)[0][0])
    total = sum(
        versions
        for eco, status, versions in kept
        if versions
        and params.get("ecosystem", eco) == eco
        and params.get("status", status) == status
    )
    containing = (yield _POSTGRES_DESCRIBED.format(contains="", filters=filters), params)[0][0]
    return int(total - containing)
