"""SQLite's kept word sets: exact counts of versions whose description has several words.

A search of several common words ("library for") matches a large part of the
catalogue, and counting those matches per request reads every name that has
the rarest word. Once such a set has been asked for, it is *kept*: a row in
``package_word_sets`` and its counts per ecosystem and status in
``package_word_set_totals`` (migrations 0016 and 0017), which triggers keep in
step with every later change. A kept set's count is then a few reads. The
totals count apart the versions whose name contains the set's rarest word
(``in_name``, migration 0023): for a set of one word, the versions described
by it whose name does not contain it are one read.

Keeping a set writes, and searches run on read-only connections, so a search
hands the set to :func:`keep`, which adds it on a thread of its own
(:class:`SetCount`) without holding the write lock for more than two short
transactions:

1. While a write transaction holds the lock, a second connection opens a
   read snapshot; the write adds the set with ``counting`` set and commits.
   Nothing else can commit in between, so the snapshot is the database as of
   that commit, and from it on the triggers add every later change to the
   set's totals.
2. The versions of the snapshot are counted, a chunk of names at a time,
   writers carrying on meanwhile (seconds at a million versions).
3. A write adds that count to the totals and clears ``counting``: the totals
   are then exact, and searches use them. A count that another connection
   has taken over since (its own step 1) is dropped.

Until a set is kept searches count it the long way (exactly, as before).

A set that few names have (at most :data:`MAX_KEPT_NAMES` when counted) also
keeps those names, per status, in ``package_word_set_names`` (migration 0028):
a search of two rarer words then reads its page from them instead of walking
every name of the rarest word to find the few that have both. The count
gathers the names while they are few; the triggers keep the names of every
set added with ``names`` set from step 1 on, and step 3 adds the snapshot's
names, or, for a set found to have more, drops them and clears ``names``.

Anyone may search, so what is kept is bounded: at most :data:`MAX_SETS` sets of
at most :data:`MAX_WORDS` words, and at most :data:`MAX_WAITING` waiting to be
added; past these, searches keep counting the long way.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import sqlite3
from collections import Counter
from concurrent.futures import Future

from foss_registry.packages.background import OncePerKey
from foss_registry.packages.models import STATUSES
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
#: The names of the rarest word a step of a count reads.
CHUNK = 4096
#: A set with at most this many names when counted keeps its names (a search pages them).
MAX_KEPT_NAMES = 2048

_ADD_SET = (
    "INSERT OR IGNORE INTO package_word_sets(words, rarest, counting, names) "
    f"SELECT :words, :rarest, :token, 1 WHERE (SELECT count(*) FROM package_word_sets) < {MAX_SETS}"
)
_COUNTING = "SELECT counting FROM package_word_sets WHERE words = :words"
# Another count of the set (of another process, or one that died) is taken over:
# its totals restart from this commit.
_TAKE_OVER = (
    "UPDATE package_word_sets SET counting = :token, names = 1 WHERE words = :words",
    "DELETE FROM package_word_set_totals WHERE words = :words",
    "DELETE FROM package_word_set_names WHERE words = :words",
)
_DONE = "UPDATE package_word_sets SET counting = NULL WHERE words = :words AND counting = :token"
_ADD_COUNT = (
    "INSERT INTO package_word_set_totals(words, in_name, ecosystem, status, versions) "
    "VALUES (:words, :in_name, :ecosystem, :status, :versions) "
    "ON CONFLICT(words, in_name, ecosystem, status) "
    "DO UPDATE SET versions = versions + excluded.versions"
)
_OURS = "EXISTS (SELECT 1 FROM package_word_sets WHERE words = :words AND counting = :token)"
_DROP = (
    f"DELETE FROM package_word_set_totals WHERE words = :words AND {_OURS}",
    f"DELETE FROM package_word_set_names WHERE words = :words AND {_OURS}",
    "DELETE FROM package_word_sets WHERE words = :words AND counting = :token",
)
_ADD_NAME = (
    "INSERT INTO package_word_set_names(words, normalized_name, ecosystem, pending, approved, "
    "rejected) VALUES (:words, :name, :ecosystem, :pending, :approved, :rejected) "
    "ON CONFLICT(words, normalized_name, ecosystem) DO UPDATE SET "
    "pending = pending + excluded.pending, approved = approved + excluded.approved, "
    "rejected = rejected + excluded.rejected"
)
# A name counted in the snapshot whose versions with the words have all gone since.
_EMPTIED_NAMES = (
    "DELETE FROM package_word_set_names WHERE words = :words "
    "AND pending = 0 AND approved = 0 AND rejected = 0"
)
# A set found to have many names: a walk fills its pages.
_NO_NAMES = (
    "DELETE FROM package_word_set_names WHERE words = :words",
    "UPDATE package_word_sets SET names = 0 WHERE words = :words",
)
#: Whether a word is inside a name, as ``package_description_words.in_name`` says
#: (migration 0004): a name's row of a word is then found in one step, not looked for
#: under both values of ``in_name``.
IN_NAME = "(instr(lower({name}), {word}) > 0)"
# The rows of the rarest word in key order, from just after :after_* on.
_NEXT = (
    "r.word = :rarest AND (r.in_name, r.normalized_name, r.ecosystem) "
    "> (:after_in_name, :after_name, :after_ecosystem)"
)
# The last name of the next chunk (none: the chunk reaches the end).
_CHUNK_END = (
    f"SELECT r.in_name, r.normalized_name, r.ecosystem FROM package_description_words r "
    f"WHERE {_NEXT} ORDER BY r.in_name, r.normalized_name, r.ecosystem LIMIT 1 OFFSET :last"
)
# (A chunk reaching the end ends at in_name 2, past every row: one range of the key.)
_IN_CHUNK = (
    f"{_NEXT} AND (r.in_name, r.normalized_name, r.ecosystem) "
    "<= (:end_in_name, :end_name, :end_ecosystem)"
)
# A name whose every version has every word counts its versions per status
# (package_name_statuses); only the other names are read version by version.
_COVERED = (
    "s.versions IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(:word_list) w "
    "WHERE coalesce((SELECT d.versions FROM package_description_words d WHERE d.word = w.value "
    f"AND d.in_name = {IN_NAME.format(name='r.normalized_name', word='w.value')} "
    "AND d.normalized_name = r.normalized_name "
    "AND d.ecosystem = r.ecosystem), 0) <> s.versions)"
)
_NAME_SUFFIX = (
    "LEFT JOIN package_name_suffixes s ON s.suffix = lower(r.normalized_name) "
    "AND s.ecosystem = r.ecosystem AND s.normalized_name = r.normalized_name "
)
# The versions of one chunk's names that have every word, per ecosystem and status, and
# whether their name contains the rarest word (the in_name of its row); per name too
# while the set's names are gathered.
_CHUNK_COUNTS = (
    "SELECT in_name, {name}, ecosystem, status, sum(versions) FROM ("
    "SELECT r.in_name, r.normalized_name, t.ecosystem, t.status, t.versions "
    f"FROM package_description_words r {_NAME_SUFFIX}"
    "JOIN package_name_statuses t ON t.ecosystem = r.ecosystem "
    f"AND t.normalized_name = r.normalized_name WHERE {_IN_CHUNK} AND {_COVERED} "
    "UNION ALL SELECT r.in_name, r.normalized_name, v.ecosystem, v.status, 1 "
    f"FROM package_description_words r {_NAME_SUFFIX}"
    "JOIN package_versions v ON v.ecosystem = r.ecosystem "
    "AND v.normalized_name = r.normalized_name "
    f"WHERE {_IN_CHUNK} AND NOT ({_COVERED}) AND foss_has_words(v.description, :words)"
    ") GROUP BY in_name, ecosystem, status{by_name}"
)
_COUNT_CHUNK = _CHUNK_COUNTS.format(name="NULL", by_name="")
_COUNT_CHUNK_BY_NAME = _CHUNK_COUNTS.format(name="normalized_name", by_name=", normalized_name")
#: The kept counts of a set: (words, in_name, ecosystem, status, versions) rows (``in_name``
#: 1 for the versions whose name contains the set's rarest word); none for a set not
#: kept or still being counted.
KEPT_TOTALS = (
    "SELECT s.words, t.in_name, t.ecosystem, t.status, t.versions FROM package_word_sets s "
    "LEFT JOIN package_word_set_totals t ON t.words = s.words "
    "WHERE s.words = :set_key AND s.counting IS NULL"
)

#: Whether the set :set_key is kept with its names (migration 0028).
NAMES_KEPT = (
    "EXISTS (SELECT 1 FROM package_word_sets WHERE words = :set_key AND counting IS NULL AND names)"
)
_keeping = OncePerKey("foss-word-sets", MAX_WAITING)


def key(words: list[str]) -> Key:
    """The stored key of a set of words."""
    return " ".join(sorted(set(words)))


def keep(database: str, words: list[str], rarest: str) -> Future[None] | None:
    """Keep the counts of a word set of a SQLite database file, once, in the background.

    Returns the work adding it (None when the bounds refuse it).
    """
    if len(words) > MAX_WORDS:
        return None
    words_key = key(words)
    adding = functools.partial(_add, database, words_key, rarest)
    return _keeping.submit((database, words_key), adding)


def wait() -> None:
    """Wait until every set asked for so far is kept (for tests and tools)."""
    _keeping.wait()


class SetCount:
    """The keeping of one word set: :meth:`start`, :meth:`step` until False, :meth:`finish`.

    Holds two connections of its own: one that writes (two short
    transactions) and one that reads the snapshot the set is counted in.
    """

    def __init__(self, database: str, words: Key, rarest: str, chunk: int = CHUNK) -> None:
        self.words = words
        self.token = secrets.token_hex(8)
        self.counted: Counter[tuple[int, str, str]] = Counter()
        #: Per (name, ecosystem) the versions counted per status, while the names are few
        #: (None once they are more than :data:`MAX_KEPT_NAMES`).
        self.names: dict[tuple[str, str], list[int]] | None = {}
        self._chunk = chunk
        self._after: tuple[int, str, str] | None = (-1, "", "")
        self._params = {
            "words": words,
            "rarest": rarest,
            "token": self.token,
            "word_list": json.dumps(words.split(" ")),
        }
        self._writer = sqlite3.connect(database, timeout=30, isolation_level=None)
        try:
            self._reader = sqlite3.connect(database, timeout=30, isolation_level=None)
        except sqlite3.Error:
            self._writer.close()
            raise
        for conn in (self._writer, self._reader):
            register_sqlite_functions(conn)
        self._reader.execute("PRAGMA query_only = ON")

    @classmethod
    def start(cls, database: str, words: Key, rarest: str, chunk: int = CHUNK) -> SetCount | None:
        """Add the set as being counted, with the snapshot to count it in (None: nothing to do).

        None when the set is kept already or the bound on kept sets is reached.
        """
        count = cls(database, words, rarest, chunk)
        try:
            if count._begin():
                return count
        except BaseException:
            count.close()
            raise
        count.close()
        return None

    def _begin(self) -> bool:
        writer, reader = self._writer, self._reader
        writer.execute("BEGIN IMMEDIATE")
        try:
            # Nothing commits while the writer holds the lock: the snapshot the
            # reader opens is the database as of the commit below.
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM package_word_sets").fetchone()
            row = writer.execute(_COUNTING, self._params).fetchone()
            if row is None:
                started = writer.execute(_ADD_SET, self._params).rowcount == 1
            else:
                started = row[0] is not None
                if started:
                    for sql in _TAKE_OVER:
                        writer.execute(sql, self._params)
            writer.execute("COMMIT" if started else "ROLLBACK")
        except BaseException:
            writer.execute("ROLLBACK")
            raise
        if not started:
            reader.execute("ROLLBACK")
        return started

    def step(self) -> bool:
        """Count the next chunk of names in the snapshot; False once every name is counted."""
        if self._after is None:
            return False
        after = self._after
        params = self._params | {
            "after_in_name": after[0],
            "after_name": after[1],
            "after_ecosystem": after[2],
        }
        end = self._reader.execute(_CHUNK_END, params | {"last": self._chunk - 1}).fetchone()
        bound = end or (2, "", "")
        params |= dict(zip(("end_in_name", "end_name", "end_ecosystem"), bound, strict=True))
        names = self.names
        sql = _COUNT_CHUNK if names is None else _COUNT_CHUNK_BY_NAME
        for in_name, name, ecosystem, status, versions in self._reader.execute(sql, params):
            self.counted[in_name, ecosystem, status] += versions
            if names is not None:
                names.setdefault((name, ecosystem), [0, 0, 0])[STATUSES.index(status)] += versions
        if names is not None and len(names) > MAX_KEPT_NAMES:
            self.names = None
        self._after = (end[0], end[1], end[2]) if end else None
        return self._after is not None

    def finish(self) -> bool:
        """Add the snapshot's count to the changes made since; False when taken over meanwhile."""
        self._reader.execute("ROLLBACK")
        writer = self._writer
        writer.execute("BEGIN IMMEDIATE")
        try:
            kept = writer.execute(_DONE, self._params).rowcount == 1
            if kept:
                writer.executemany(
                    _ADD_COUNT,
                    [
                        {
                            "words": self.words,
                            "in_name": i,
                            "ecosystem": e,
                            "status": s,
                            "versions": n,
                        }
                        for (i, e, s), n in self.counted.items()
                    ],
                )
                self._keep_names(writer)
            writer.execute("COMMIT")
        except BaseException:
            writer.execute("ROLLBACK")
            raise
        return kept

    def _keep_names(self, writer: sqlite3.Connection) -> None:
        """Add the snapshot's names to those the triggers kept since, or drop them all."""
        if self.names is None:
            for sql in _NO_NAMES:
                writer.execute(sql, self._params)
            return
        writer.executemany(
            _ADD_NAME,
            [
                {"words": self.words, "name": name, "ecosystem": ecosystem}
                | dict(zip(STATUSES, counts, strict=True))
                for (name, ecosystem), counts in self.names.items()
            ],
        )
        writer.execute(_EMPTIED_NAMES, self._params)

    def drop(self) -> None:
        """Remove the set and its partial totals (unless another count has taken it over)."""
        if self._reader.in_transaction:
            self._reader.execute("ROLLBACK")
        writer = self._writer
        writer.execute("BEGIN IMMEDIATE")
        try:
            for sql in _DROP:
                writer.execute(sql, self._params)
            writer.execute("COMMIT")
        except BaseException:
            writer.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close both connections (an unfinished count stays as it is, for another to take over)."""
        self._reader.close()
        self._writer.close()


def _add(database: str, words: Key, rarest: str) -> bool:
    """Keep a set (or find it kept); False when it could not be (tried again when next asked)."""
    count: SetCount | None = None
    try:
        count = SetCount.start(database, words, rarest)
        if count is not None:
            while count.step():
                pass
            count.finish()
        return True
    except sqlite3.Error:
        # The search counted the long way and will again: nothing is lost.
        _log.exception("could not keep the counts of the word set %r", words)
        if count is not None:
            try:
                count.drop()
            except sqlite3.Error:
                _log.exception("could not drop the partial counts of the word set %r", words)
    finally:
        if count is not None:
            count.close()
    return False
