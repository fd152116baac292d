"""Listing and searching package versions on PostgreSQL (SQLite: :mod:`.search`).

A page is a few ordered reads, each limited to the page's end, merged in one
statement, names first and only the page's names' versions after: names from
their suffixes, or for a term inside many names from the rows kept for it in
the page's order (migration 0024, kept at its first search); names described
by a word in name order with their versions (migration 0021); descriptions of
several words or with a status from the names that have their rarest word or,
when few, from the GIN index of their stored words (migration 0019).
``total`` from the counts the triggers of migrations 0019, 0021 and 0024 keep
(per name and status on each name suffix, per name prefix, per word, per kept
word set, per kept name term). Nothing grows with the matches but what the
page shows, except the suffixes of a term inside fewer than
:data:`KEPT_TERMS_FROM` names (or once :data:`MAX_TERMS` are kept).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from foss_registry import search_index
from foss_registry.packages import word_sets
from foss_registry.packages.records import PackageList, PackageSummary, Reader, Rows, Steps

_COLUMNS = ", ".join(PackageSummary.__struct_fields__)

# What the two GIN indexes hold (migrations 0004, 0006 and 0019): the lower-cased
# name, and the words of the description, stored. foss_search_text makes words as
# SQLite does: accents dropped, and every run of characters other than letters
# and digits a separator (PostgreSQL's own parser would keep "node.js" or "a/b" whole).
_POSTGRES_NAME = "lower(normalized_name)"
_POSTGRES_WORDS = "search_words"
_POSTGRES_QUERY = "plainto_tsquery('simple', foss_search_text(:words))"
# The same made once per statement, to test row by row (made for each row tested,
# it cost about 10 microseconds a version).
_POSTGRES_ONCE = f"(SELECT {_POSTGRES_QUERY})"
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
_POSTGRES_RANGE = "FROM package_name_suffixes s WHERE s.suffix >= :term AND s.suffix < :term_end"
# Each suffix row carries its name's versions per status (migration 0021).
_POSTGRES_SUFFIX_VERSIONS = {
    False: "{s}pending + {s}approved + {s}rejected",
    True: "CASE :status WHEN 'pending' THEN {s}pending WHEN 'approved' THEN {s}approved "
    "ELSE {s}rejected END",
}
# The suffix row at the term's first place in its name: a name containing the
# term twice is found once.
_POSTGRES_FIRST = (
    "strpos(lower({s}normalized_name), :term) "
    "= length(lower({s}normalized_name)) - length({s}suffix) + 1"
)


@lru_cache(maxsize=64)
def _postgres_term_page(
    ecosystem: bool, status: bool, described: str | None, kept: bool
) -> str:
    """The names starting with a term, then the others containing it or described by it, merged.

    The names come first, their versions after. A ``kept`` term's names are
    read in the page's order from its rows (``package_name_term_names``,
    migration 0024) as far as the page reaches. Otherwise, from the term's
    range of name suffixes: the names starting with the term in the order of
    their whole-name suffix rows (a name with capitals read apart, few in any
    catalogue), the others containing it sorted by name from the row of the
    term's first place in each name (``c``); their versions (a column of each
    suffix row, per status) are summed over the range for the total, a column
    of each row of the page. The names that are the term or start with it come
    first; the others (containing it further on, or for one word described by
    it) are merged by name, only as many as the first names' versions leave
    room for, so a page that names starting with the term fill reads no other.
    The names are kept in order as far as their versions reach the page's end;
    only those names' versions are read. The
    descriptions (``described``) are either "gathered" from the word index and
    sorted, when their matches are few, or "walked": the names whose
    descriptions have the rarest word (``package_name_words``, migration 0021)
    read in name order, and each one's versions tested, as far as the page
    reaches.
    """
    filters = _postgres_filters(ecosystem, status)
    if kept:
        versions = _POSTGRES_SUFFIX_VERSIONS[status].format(s="t.")
        eco = " AND t.ecosystem = :ecosystem" if ecosystem else ""
        in_status = f" AND {versions} > 0" if status else ""
        kept_names = (
            "SELECT {columns} FROM package_name_term_names t WHERE t.term = :term "
            f"AND t.place {{place}}{eco}{in_status} ORDER BY {{order}}t.normalized_name, "
            "t.ecosystem LIMIT :reach"
        )
        # Each place a range of the key, with an ecosystem too (migration 0027): the
        # names that are the term (one per ecosystem at most), then those starting with it.
        early = " UNION ALL ".join(
            "("
            + kept_names.format(
                columns=f"t.place AS rank, t.normalized_name AS n, t.ecosystem AS e, "
                f"{versions} AS v",
                place=f"= {place}",
                order="",
            )
            + ")"
            for place in (0, 1)
        )
        later_parts = [
            kept_names.format(
                columns=f"t.normalized_name AS n, t.ecosystem AS e, {versions} AS v, false AS d",
                place="= 2",
                order="",
            )
        ]
    else:
        versions = _POSTGRES_SUFFIX_VERSIONS[status].format(s="s.")
        eco = " AND s.ecosystem = :ecosystem" if ecosystem else ""
        in_status = f" AND {versions} > 0" if status else ""
        exact = "CASE WHEN s.suffix = :term THEN 0 ELSE 1 END"
        # Names starting with the term and those with capitals last, then by name:
        # the first :reach names containing it further on (with versions in the status).
        later = "whole OR v = 0" if status else "whole"
        early = (
            f"(SELECT {exact} AS rank, s.normalized_name AS n, s.ecosystem AS e, {versions} AS v "
            f"{_POSTGRES_RANGE} AND s.suffix = s.normalized_name{eco}{in_status} "
            "ORDER BY s.suffix, s.ecosystem LIMIT :reach) UNION ALL "
            # A whole-name row other than the name: a name with capitals, lower-cased.
            f"(SELECT {exact}, s.normalized_name, s.ecosystem, {versions} "
            f"{_POSTGRES_RANGE} AND s.suffix <> s.normalized_name "
            f"AND length(s.suffix) = length(s.normalized_name){eco}{in_status})"
        )
        later_parts = [f"SELECT n, e, v, false AS d FROM c WHERE NOT ({later}) ORDER BY n, e"]
    if described == "named":
        # A term of one word, no status: the names described by it (and not
        # containing it) in name order, with their versions having the word.
        word_eco = " AND w.ecosystem = :ecosystem" if ecosystem else ""
        later_parts.append(
            "SELECT w.normalized_name, w.ecosystem, w.versions, true "
            f"FROM package_name_words w WHERE w.word = :term{word_eco} "
            "AND NOT lower(w.normalized_name) LIKE :pattern ESCAPE '\\' "
            "ORDER BY w.normalized_name, w.ecosystem LIMIT :reach"
        )
    # The names ranked 0 and 1 (the term, starting with it) first; those ranked 2
    # merged by name, only as many as the versions of the first leave room for
    # (each name has a version).
    later_names = " UNION ALL ".join(f"({part})" for part in later_parts)
    names = (
        f"WITH early AS MATERIALIZED ({early}) SELECT rank, n, e, v, false AS d FROM early "
        f"UNION ALL (SELECT 2, n, e, v, d FROM ({later_names}) AS later ORDER BY n, e "
        "LIMIT greatest(0, :reach - (SELECT coalesce(sum(v), 0) FROM early)))"
    )
    # How many versions of the others a page may show after those of the names
    # that are the term or start with it.
    room = f"greatest(0, :reach - (SELECT coalesce(sum(v), 0) FROM ({early}) AS early))"
    # A described name's versions: those having the word.
    described_by = (
        f" AND (NOT f.d OR {_POSTGRES_WORDS} @@ {_POSTGRES_ONCE})" if described == "named" else ""
    )
    # The names in order up to the one whose versions reach the page's end.
    first = (
        "SELECT rank, e AS fe, n AS fn, d FROM (SELECT rank, e, n, d, "
        "sum(v) OVER (ORDER BY rank, n, e ROWS UNBOUNDED PRECEDING) - v AS before "
        f"FROM ({names}) AS names) AS ordered WHERE before < :reach"
    )
    branches = [
        f"(SELECT {_COLUMNS}, n, s, i, rank FROM ({first}) AS f CROSS JOIN LATERAL (SELECT "
        f"{_COLUMNS}, normalized_name AS n, sort_token AS s, id AS i FROM package_versions "
        f"WHERE ecosystem = f.fe AND normalized_name = f.fn{filters}{described_by}) AS v "
        "ORDER BY rank, n, ecosystem, s DESC, i DESC LIMIT :reach)"
    ]
    if described in ("gathered", "walked"):
        words = f"{_POSTGRES_WORDS} @@ {_POSTGRES_QUERY} AND NOT {_POSTGRES_CONTAINS}"
        if described == "gathered":
            branch = _POSTGRES_BRANCH.format(
                columns=_COLUMNS, rank="2", where=words, filters=filters, order=""
            )
            # A materialised CTE: the planner cannot walk the name index for it.
            inner = branch[1 : branch.index(" ORDER BY ")]
            branch = (
                f"(WITH d AS MATERIALIZED ({inner}) SELECT * FROM d "
                "ORDER BY n, ecosystem, s DESC, i DESC LIMIT :reach)"
            )
        else:
            word_eco = " AND w.ecosystem = :ecosystem" if ecosystem else ""
            # In name order (the key's), each name's versions sorted after it: the
            # page stops reading names once it has the versions it has room for.
            branch = (
                f"(SELECT {_COLUMNS}, n, s, i, 2 AS rank FROM (SELECT w.normalized_name AS wn, "
                "w.ecosystem AS we FROM package_name_words w WHERE w.word = :rarest"
                f"{word_eco} AND NOT lower(w.normalized_name) LIKE :pattern ESCAPE '\\' "
                "ORDER BY w.normalized_name, w.ecosystem) AS w CROSS JOIN LATERAL (SELECT "
                f"{_COLUMNS}, normalized_name AS n, sort_token AS s, id AS i "
                "FROM package_versions WHERE ecosystem = w.we AND normalized_name = w.wn "
                f"AND {_POSTGRES_WORDS} @@ {_POSTGRES_ONCE}{filters}) AS v "
                f"ORDER BY w.wn, w.we, s DESC, i DESC LIMIT {room})"
            )
        branches.append(branch)
    page = _POSTGRES_PAGE.format(branches=" UNION ALL ".join(branches))
    if kept:
        return page
    # The suffix rows of the term's first place in each name: the whole-name row of
    # a name starting with it, another row of a name containing it further on.
    first_places = f"{_POSTGRES_RANGE} AND {_POSTGRES_FIRST.format(s='s.')}{eco}"
    containing = (
        f"SELECT s.normalized_name AS n, s.ecosystem AS e, {versions} AS v, "
        f"length(s.suffix) = length(s.normalized_name) AS whole {first_places}"
    )
    # The versions of the names containing the term ride along each row.
    return (
        f"WITH c AS MATERIALIZED (SELECT * FROM ({containing}) AS c ORDER BY {later}, n, e "
        f"LIMIT :reach) SELECT *, (SELECT coalesce(sum({versions}), 0) {first_places}) "
        f"AS named FROM ({page}) AS page"
    )


# How many versions are stored, as the planner counts them (-1 before a first ANALYZE).
_POSTGRES_STORED = "(SELECT reltuples FROM pg_class WHERE oid = 'package_versions'::regclass)"
# Counts kept by migration 0019's trigger.
# The one-character prefixes part every version once.
_ONE = "length(prefix) = 1"
_POSTGRES_PREFIX_TOTAL = (
    "SELECT coalesce(sum(versions), 0) FROM package_name_prefix_totals WHERE {prefix}{filters}"
)
# The versions of the names containing the term: one range of their suffixes.
_POSTGRES_NAMES_TOTAL = (
    "SELECT coalesce(sum({versions}), 0) FROM package_name_suffixes "
    f"WHERE suffix >= :term AND suffix < :term_end AND {_POSTGRES_FIRST.format(s='')}{{filters}}"
)
# The term's words as the description index holds them (distinct, sorted), and in
# how many descriptions each is.
_POSTGRES_TERM_WORDS = "to_tsvector('simple', foss_search_text(:words))"
_POSTGRES_WORD_COUNTS = (
    "SELECT w, (SELECT coalesce(sum(versions), 0) FROM package_word_status_totals t "
    f"WHERE t.word = w) AS c FROM unnest(tsvector_to_array({_POSTGRES_TERM_WORDS})) AS w"
)
_POSTGRES_WORD_TOTAL = (
    "SELECT coalesce(sum(versions), 0) FROM package_word_status_totals "
    "WHERE word = :term AND NOT in_name{filters}"
)
_POSTGRES_DESCRIBED = (
    f"SELECT count(*) FROM package_versions WHERE {_POSTGRES_WORDS} @@ {_POSTGRES_QUERY} "
    f"AND NOT {_POSTGRES_CONTAINS}{{filters}}"
)
# The versions described by the term's words whose name contains it: the names
# from the term's suffix range (the trigram index took milliseconds to find none
# for "library for").
_POSTGRES_DESCRIBED_NAMED = (
    f"SELECT coalesce(sum(c), 0) FROM (SELECT s.ecosystem AS e, s.normalized_name AS n "
    f"{_POSTGRES_RANGE} AND {_POSTGRES_FIRST.format(s='s.')}) AS named CROSS JOIN LATERAL "
    "(SELECT count(*) AS c FROM package_versions WHERE ecosystem = named.e "
    f"AND normalized_name = named.n AND {_POSTGRES_WORDS} @@ {_POSTGRES_ONCE}{{filters}}) AS v"
)
#: The step that keeps a word set or a name term, not a statement: the driver runs
#: :func:`.postgres_word_sets.keep` with its arguments (seconds at a million versions).
KEEP = "keep a word set"
# A kept set's counts: (ecosystem, status, versions) rows; none for a set not kept,
# or still being counted.
_POSTGRES_KEPT = (
    "SELECT t.ecosystem, t.status, t.versions FROM package_word_sets s "
    "LEFT JOIN package_word_set_totals t ON t.words = s.words "
    "WHERE s.words = :set_key AND s.counting IS NULL"
)
# The same, of the term's own word set (its key: the sorted words joined by a
# space), as one JSON array (NULL for a set not kept).
_POSTGRES_KEPT_NOW = (
    "SELECT json_agg(json_build_array(t.ecosystem, t.status, t.versions)) "
    "FROM package_word_sets s LEFT JOIN package_word_set_totals t ON t.words = s.words "
    f"WHERE s.words = array_to_string(tsvector_to_array({_POSTGRES_TERM_WORDS}), ' ') "
    "AND s.counting IS NULL"
)


#: A term inside this many names or more (their suffix rows) keeps its names
#: (migration 0024: :class:`.postgres_word_sets.TermCount`); reading them from the
#: suffixes cost about 2.5 microseconds each at a million versions, twice a search.
KEPT_TERMS_FROM = 500
#: At most this many terms are kept: the trigger writes a row for each kept term
#: inside the name of a version added, removed or decided.
MAX_TERMS = 1000
# A kept term's counts, as one JSON array of (ecosystem, status, versions) rows;
# NULL for a term not kept, or still being counted.
_POSTGRES_TERM_KEPT = (
    "SELECT json_agg(json_build_array(t.ecosystem, t.status, t.versions)) "
    "FROM package_name_terms k LEFT JOIN package_name_term_totals t ON t.term = k.term "
    "WHERE k.term = :term AND k.counting IS NULL"
)
# How many suffix rows the term's range has, up to :many.
_POSTGRES_MANY = f"SELECT count(*) FROM (SELECT 1 {_POSTGRES_RANGE} LIMIT :many) AS m"


def page(
    read: Reader,
    params: dict[str, Any],
    term: str,
    keep: Callable[[dict[str, Any]], None] | None = None,
) -> PackageList:
    """A list or search on a synchronous reader (see :func:`page_steps`).

    ``keep`` keeps a word set or a name term (:func:`.postgres_word_sets.keep` on
    the reader's database); without it, a set not kept is counted the long way,
    a term not kept read from its suffixes.
    """
    steps = page_steps(params, term)
    try:
        query = next(steps)
        while True:
            rows: Rows = []
            if query[0] != KEEP:
                rows = read(*query)
            elif keep is not None:
                keep(query[1])
            query = steps.send(rows)
    except StopIteration as done:
        return done.value


def page_steps(params: dict[str, Any], term: str) -> Steps[PackageList]:
    """A list or search: pages read in order as far as they reach, kept counts.

    ``params`` holds the page and the filters, validated. The statements are
    yielded one by one (:data:`~foss_registry.packages.records.Steps`): the API
    runs them on an asynchronous connection, prepared; other callers on a
    SQLAlchemy connection. A :data:`KEEP` step is no statement: the driver keeps
    the word set or name term of its arguments (it writes, and takes up to
    seconds at a million versions), or leaves it to be counted the long way.
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
        params["many"] = KEPT_TERMS_FROM
        counted = yield _postgres_counts(*shape), params
        word_total, kept, containing, kept_term, many, stored = (
            counted[0][i] for i in (0, 3, 4, 5, 6, 7)
        )
        counts = [(row[1], row[2]) for row in counted if row[1] is not None]
        # A word no description has (a package name's number, say): names alone match.
        fewest = min((c for _w, c in counts), default=0)
        described = None
        one_word = [w for w, _c in counts] == [term]
        if fewest and one_word and not has_status:
            # The described names' versions are counted per name: merged by name.
            described = "named"
        elif fewest:
            described = _gathered_or_walked([c for _w, c in counts], stored, params["reach"])
            params["rarest"] = min(counts, key=lambda wc: (wc[1], wc[0]))[0]
        if one_word:
            described_total = word_total
        else:
            described_total = yield from _postgres_described(
                params, counts, filters, _kept(kept), containing
            )
        if kept_term is None and many >= KEPT_TERMS_FROM:
            # Names containing the term are many: keep them (once; the next search
            # reads them kept, whatever this one finds).
            yield KEEP, {"term": term, "most": MAX_TERMS}
            kept_term = (yield _POSTGRES_TERM_KEPT, {"term": term})[0][0]
        sql = _postgres_term_page(has_ecosystem, has_status, described, kept_term is not None)
        rows = yield sql, params
        if kept_term is not None:
            return _result(rows, _kept_total(_kept(kept_term), params) + described_total, params)
        if rows:
            return _result([row[:-1] for row in rows], rows[0][-1] + described_total, params)
        # A page past the end: the names' versions counted on their own.
        named_sql = _POSTGRES_NAMES_TOTAL.format(
            versions=_POSTGRES_SUFFIX_VERSIONS[has_status].format(s=""),
            filters=" AND ecosystem = :ecosystem" if has_ecosystem else "",
        )
        named = (yield named_sql, params)[0][0]
        return _result(rows, named + described_total, params)
    # The total rides along with each row of the page (one statement), and is read
    # on its own only for a page past the end.
    rows = yield _with_total(sql, total_sql), params
    if rows:
        return _result([row[:-1] for row in rows], rows[0][-1], params)
    return _result(rows, (yield total_sql, params)[0][0], params)


#: The most versions with the rarest word a search of several gathers (see
#: :func:`_gathered_or_walked`): the most rows it reads when its words go together.
GATHER_AT_MOST = 20_000


def _gathered_or_walked(counts: list[int], stored: float, reach: int) -> str:
    """How a search of several words (or one with a status) reads its described versions.

    Gathering reads every match, found by the description index (which
    intersects the words' lists); walking reads the names with the rarest word
    in order, testing each one's versions, as far as the page reaches: about
    the page's versions divided by the share of them that match. The matches
    are guessed as the words were independent (``stored`` versions in all, as
    the planner counts them): two rarer words, "jsonrest httpzen", each in 0.6 %
    of a million descriptions, are in 28 together; walking read the 1,500 names
    with the rarer to find them (19 ms), gathering reads the 28 (1.3 ms).
    """
    fewest = min(counts)
    matches = float(fewest)
    for count in sorted(counts)[1:]:
        matches *= count / max(stored, count, 1)
    if fewest <= 4 * reach or (matches <= 4 * reach and fewest <= GATHER_AT_MOST):
        return "gathered"
    return "walked"


@lru_cache(maxsize=64)
def _with_total(sql: str, total_sql: str) -> str:
    return f"SELECT *, ({total_sql}) AS total FROM ({sql}) AS page"


@lru_cache(maxsize=8)
def _postgres_counts(ecosystem: bool, status: bool) -> str:
    """The counts a term's search starts from, in one statement.

    Each row: the versions whose description has the term as its one word (and
    not in their name), one of
    the term's words with the versions whose description has it (NULLs for a
    term without words), and for a term of several words the kept counts of
    their set (:data:`_POSTGRES_KEPT_NOW`) and the versions described by them
    whose name contains the term; the kept counts of the term's names
    (:data:`_POSTGRES_TERM_KEPT`), or for a term not kept, whether its names are
    many (:data:`_POSTGRES_MANY`); and how many versions are stored.
    """
    filters = _postgres_filters(ecosystem, status)
    word_total = _POSTGRES_WORD_TOTAL.format(filters=filters)
    containing = _POSTGRES_DESCRIBED_NAMED.format(filters=filters)
    # The versions of names containing the term are counted only for a kept set
    # (a package name's words are rare: none kept, and the count would go through
    # the trigram index, tens of milliseconds for a name made of common syllables).
    return (
        f"SELECT ({word_total}), w.w, w.c, k.kept, CASE WHEN k.kept IS NOT NULL "
        f"AND length({_POSTGRES_TERM_WORDS}) > 1 THEN ({containing}) END, "
        f"k.kept_term, CASE WHEN k.kept_term IS NULL THEN ({_POSTGRES_MANY}) END, "
        f"{_POSTGRES_STORED} "
        f"FROM (SELECT ({_POSTGRES_KEPT_NOW}) AS kept, ({_POSTGRES_TERM_KEPT}) AS kept_term) AS k "
        f"LEFT JOIN LATERAL ({_POSTGRES_WORD_COUNTS}) AS w ON true"
    )


def _result(rows: Sequence[Sequence[Any]], total: int, params: dict[str, Any]) -> PackageList:
    return PackageList(
        packages=[PackageSummary(*row) for row in rows],
        total=int(total),
        limit=params["limit"],
        offset=params["offset"],
    )


def _kept(found: Any) -> list[Any]:
    """The rows of a kept set's counts read as JSON (none for a set not kept)."""
    if found is None:
        return []
    return list(json.loads(found) if isinstance(found, str | bytes) else found)


def _kept_total(kept: Sequence[Sequence[Any]], params: dict[str, Any]) -> int:
    """The versions of kept (ecosystem, status, versions) rows that the filters keep."""
    return sum(
        versions
        for eco, status, versions in kept
        if versions
        and params.get("ecosystem", eco) == eco
        and params.get("status", status) == status
    )


def _postgres_described(
    params: dict[str, Any],
    counts: list[tuple[str, int]],
    filters: str,
    kept: Sequence[Sequence[Any]],
    containing: int | None,
) -> Steps[int]:
    """How many versions have every word in their description and not the term in their name.

    Several words (or one that is not the term): the kept count of their set
    (``kept``, read with the term's counts), less those of names containing the
    term (``containing``); a set whose rarest word is common is kept at its
    first search. Otherwise, and for sets of rare words, counted through the
    description index.
    """
    if not counts or min(c for _w, c in counts) == 0:
        return 0
    words = sorted(w for w, _c in counts)
    rarest, fewest = min(counts, key=lambda wc: (wc[1], wc[0]))
    key = {"set_key": " ".join(words)}
    if not kept and fewest >= search_index.KEPT_SETS_FROM and len(words) <= word_sets.MAX_WORDS:
        arguments = key | {"word_list": words, "rarest": rarest, "most": word_sets.MAX_SETS}
        yield KEEP, arguments
        kept = yield _POSTGRES_KEPT, key
    if not kept:
        described = _POSTGRES_DESCRIBED.format(filters=filters)
        return int((yield described, params)[0][0])
    total = _kept_total(kept, params)
    if containing is None:
        described = _POSTGRES_DESCRIBED_NAMED.format(filters=filters)
        containing = (yield described, params)[0][0]
    return int(total - containing)
