"""SQLite's kept word sets: exact counts of versions whose description has several words.

A search of several common words ("library for") matches a large part of the
catalogue, and counting those matches per request reads every name that has
the rarest word. Once such a set has been asked for, it is *kept*: a row in
``package_word_sets`` and its counts per ecosystem and status in
``package_word_set_totals`` (migration 0016), which triggers keep in step with
every later change. A kept set's count is then a few reads.

Keeping a set writes, and searches run on read-only connections, so a search
hands the set to :func:`keep`, which adds it on a thread of its own through a
connection of its own, in one write transaction: nothing is written between
the count and the first trigger, so the count stays exact. Until it is kept,
searches count the set the long way (exactly, as before).

Anyone may search, so what is kept is bounded: at most :data:`MAX_SETS` sets of
at most :data:`MAX_WORDS` words, and at most :data:`MAX_WAITING` waiting to be
added; past these, searches keep counting the long way.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from foss_registry.search_index import register_sqlite_functions

_log = logging.getLogger(__name__)

#: A word set as stored: its distinct words, sorted, joined by one space.
Key = str
#: The most sets kept (each adds a little to every write of a version that has its words).
MAX_SETS = 1000
#: The most words of a kept set.
MAX_WORDS = 4
#: The most sets waiting to be added at once.
MAX_WAITING = 8

_ADD_SET = (
    "INSERT OR IGNORE INTO package_word_sets(words, rarest) SELECT :words, :rarest "
    f"WHERE (SELECT count(*) FROM package_word_sets) < {MAX_SETS}"
)
# A name whose every version has every word counts its versions per status
# (package_name_statuses); only the other names are read version by version.
_COVERED = (
    "s.versions IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(:word_list) w "
    "WHERE coalesce((SELECT d.versions FROM package_description_words d WHERE d.word = w.value "
    "AND d.in_name IN (0, 1) AND d.normalized_name = r.normalized_name "
    "AND d.ecosystem = r.ecosystem), 0) <> s.versions)"
)
_COUNT_SET = (
    "INSERT INTO package_word_set_totals(words, ecosystem, status, versions) "
    "SELECT :words, ecosystem, status, sum(versions) FROM ("
    "SELECT t.ecosystem, t.status, t.versions FROM package_description_words r "
    "LEFT JOIN package_name_suffixes s ON s.suffix = lower(r.normalized_name) "
    "AND s.ecosystem = r.ecosystem AND s.normalized_name = r.normalized_name "
    "JOIN package_name_statuses t ON t.ecosystem = r.ecosystem "
    f"AND t.normalized_name = r.normalized_name WHERE r.word = :rarest AND {_COVERED} "
    "UNION ALL SELECT v.ecosystem, v.status, 1 FROM package_description_words r "
    "LEFT JOIN package_name_suffixes s ON s.suffix = lower(r.normalized_name) "
    "AND s.ecosystem = r.ecosystem AND s.normalized_name = r.normalized_name "
    "JOIN package_versions v ON v.ecosystem = r.ecosystem "
    "AND v.normalized_name = r.normalized_name "
    f"WHERE r.word = :rarest AND NOT ({_COVERED}) AND foss_has_words(v.description, :words)"
    ") GROUP BY ecosystem, status"
)
#: The kept counts of a set: (ecosystem, status, versions) rows; none for a set not kept.
KEPT_TOTALS = (
    "SELECT s.words, t.ecosystem, t.status, t.versions FROM package_word_sets s "
    "LEFT JOIN package_word_set_totals t ON t.words = s.words WHERE s.words = :set_key"
)

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="foss-word-sets")
_lock = threading.Lock()
_asked: dict[tuple[str, Key], Future[None]] = {}


def key(words: list[str]) -> Key:
    """The stored key of a set of words."""
    return " ".join(sorted(set(words)))


def keep(database: str, words: list[str], rarest: str) -> Future[None] | None:
    """Keep the counts of a word set of a SQLite database file, once, in the background.

    Returns the work adding it (None when the bounds refuse it).
    """
    wanted = (database, key(words))
    if len(words) > MAX_WORDS:
        return None
    with _lock:
        future = _asked.get(wanted)
        if future is None:
            if sum(not f.done() for f in _asked.values()) >= MAX_WAITING:
                return None
            future = _asked[wanted] = _executor.submit(_add, database, wanted[1], rarest)
        return future


def wait() -> None:
    """Wait until every set asked for so far is kept (for tests and tools)."""
    with _lock:
        pending = list(_asked.values())
    for future in pending:
        future.result()


def _add(database: str, words: Key, rarest: str) -> None:
    try:
        conn = sqlite3.connect(database, timeout=30, isolation_level=None)
    except sqlite3.Error:
        _log.exception("could not open %s to keep a word set", database)
        return
    try:
        register_sqlite_functions(conn)
        conn.execute("BEGIN IMMEDIATE")
        params = {"words": words, "rarest": rarest, "word_list": json.dumps(words.split(" "))}
        if conn.execute(_ADD_SET, params).rowcount:
            conn.execute(_COUNT_SET, params)
        conn.execute("COMMIT")
        return
    except sqlite3.Error:
        # The search counted the long way and will again: nothing is lost.
        _log.exception("could not keep the counts of the word set %r", words)
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    finally:
        conn.close()
    with _lock:
        # Asked again, it is tried again.
        _asked.pop((database, words), None)
