"""SQLite's kept name terms: exact counts of the versions whose name contains a term, and its names.

A search's ``total`` counts every version whose lower-cased name contains the
term. For a piece of many names (``http``, ``json``) summing them per search
reads each name's suffix row: 11-15 ms at a million versions. Once such a term
has been searched for it is *kept*: a row in ``package_name_terms``, its
counts per ecosystem and status in ``package_name_term_totals`` (migration
0026) and its names in the page's order in ``package_name_term_names``
(migration 0027), which triggers keep in step with every later change. Its
count is then one short read, and its names further in than the start are
read in name order as far as the page reaches (per ecosystem too), not
sorted from every suffix row of the term.

Keeping writes, and searches run on read-only connections, so a search hands
the term to :func:`keep`, which adds it on a thread of its own, in one write
transaction that also counts it from the suffix rows (tens of milliseconds at
a million versions): nothing can commit between the count and the triggers
taking over. Until then searches sum the names (exactly, as before).

Anyone may search, so what is kept is bounded: at most :data:`MAX_TERMS`
terms (each adds a little to every write of a version whose name holds it),
and at most :data:`MAX_WAITING` waiting to be added.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from concurrent.futures import Future

from foss_registry.packages.background import OncePerKey

_log = logging.getLogger(__name__)

#: A term inside the names of this many versions or more is kept at its search.
KEPT_TERMS_FROM = 2000
#: The most terms kept: the triggers compare each with the name of every version written.
MAX_TERMS = 1000
#: The most terms waiting to be added at once.
MAX_WAITING = 8

_ADD_TERM = (
    "INSERT OR IGNORE INTO package_name_terms(term) "
    f"SELECT :term WHERE (SELECT count(*) FROM package_name_terms) < {MAX_TERMS}"
)
# The versions per ecosystem and status of the names containing the term: the suffix
# row of the term's first place in a name carries the name's counts (migration 0018).
# The term's length is written, not bound (see search._NAMES_WITH_TERM).
_COUNT = (
    "INSERT INTO package_name_term_totals(term, ecosystem, status, versions) "
    "SELECT :term, ecosystem, status, versions FROM ("
    "SELECT ecosystem, 'pending' AS status, sum(pending) AS versions {names} "
    "UNION ALL SELECT ecosystem, 'approved', sum(approved) {names} "
    "UNION ALL SELECT ecosystem, 'rejected', sum(rejected) {names}"
    ") WHERE versions > 0"
)
_NAMES = (
    "FROM package_name_suffixes WHERE suffix >= :term AND suffix < :term_end "
    "AND earlier < {length} GROUP BY ecosystem"
)
# Each name containing the term, with its place (0: it is the term, 1: it starts with
# it, 2: further on) and its versions per status (migration 0027).
_LIST = (
    "INSERT INTO package_name_term_names(term, place, normalized_name, ecosystem, pending, "
    "approved, rejected) SELECT :term, CASE WHEN earlier >= 0 THEN 2 WHEN suffix = :term "
    "THEN 0 ELSE 1 END, normalized_name, ecosystem, pending, approved, rejected "
    "FROM package_name_suffixes WHERE suffix >= :term AND suffix < :term_end "
    "AND earlier < {length}"
)

_keeping = OncePerKey("foss-name-terms", MAX_WAITING)


def keep(database: str, term: str) -> Future[None] | None:
    """Keep the counts of a name term of a SQLite database file, once, in the background.

    Returns the work adding it (None when the bound on waiting terms refuses it).
    """
    return _keeping.submit((database, term), functools.partial(_add, database, term))


def wait() -> None:
    """Wait until every term asked for so far is kept (for tests and tools)."""
    _keeping.wait()


def add(conn: sqlite3.Connection, term: str) -> bool:
    """Add a term and its counts on a connection in autocommit mode; False if not added.

    Not added when it is kept already or :data:`MAX_TERMS` are.
    """
    params = {"term": term, "term_end": term + "\uffff"}
    names = _NAMES.format(length=len(term))
    conn.execute("BEGIN IMMEDIATE")
    try:
        added = conn.execute(_ADD_TERM, params).rowcount == 1
        if added:
            # Rows of a term not kept are nobody's (a term forgotten by hand): counted anew.
            conn.execute("DELETE FROM package_name_term_totals WHERE term = :term", params)
            conn.execute("DELETE FROM package_name_term_names WHERE term = :term", params)
            conn.execute(_COUNT.format(names=names), params)
            conn.execute(_LIST.format(length=len(term)), params)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return added


def _add(database: str, term: str) -> bool:
    """Keep a term (or find it kept); False when it could not be (tried again when next asked)."""
    try:
        conn = sqlite3.connect(database, timeout=30, isolation_level=None)
        try:
            add(conn, term)
        finally:
            conn.close()
        return True
    except sqlite3.Error:
        # The search summed the names and will again: nothing is lost.
        _log.exception("could not keep the counts of the name term %r", term)
        return False
