"""PostgreSQL's kept word sets, added without holding writes off while they are counted.

A search of several common words counts its matches from the kept counts of
its word set (``package_word_sets`` and ``package_word_set_totals``,
migration 0019), which the trigger on ``package_versions`` keeps in step with
every change once the set is there. Adding a set means counting the versions
that have its words: seconds at a million versions. The set used to be added
and counted in one function holding a ``SHARE`` lock on the versions
throughout, so every submission waited for the count (4-11 s at a million
versions). Now, as SQLite's sets are kept (:mod:`.word_sets`), the lock is
held only while the set row is added, and the count is made in a snapshot:

1. A writing connection takes the ``SHARE`` lock (waiting only for the writes
   under way), adds the set with ``counting`` set to a token of its own, and
   before it commits a second connection opens a ``REPEATABLE READ`` snapshot.
   Nothing can change the versions in between, so the snapshot is the versions
   as of that commit; from that commit on, the trigger adds every change to the
   set's totals.
2. The versions of the snapshot are counted, writers carrying on meanwhile.
3. The count is added to the totals and ``counting`` cleared, in one short
   transaction: the totals are then exact, and searches use them
   (``counting IS NULL``). A set found still being counted (by another process,
   or one that died) is taken over: its totals restart from this commit, and
   the other count, when it ends, finds the token changed and is dropped.

What is kept is bounded: at most ``most`` sets (the search passes
:data:`foss_registry.packages.word_sets.MAX_SETS`).
"""

from __future__ import annotations

import secrets
from typing import Any

import psycopg

_LOCK = "LOCK TABLE package_versions IN SHARE MODE"
_COUNTING = "SELECT counting FROM package_word_sets WHERE words = %(words)s"
_ADD_SET = (
    "INSERT INTO package_word_sets (words, word_list, rarest, counting) "
    "SELECT %(words)s, %(word_list)s, %(rarest)s, %(token)s "
    "WHERE (SELECT count(*) FROM package_word_sets) < %(most)s ON CONFLICT (words) DO NOTHING"
)
_TAKE_OVER = (
    "UPDATE package_word_sets SET counting = %(token)s WHERE words = %(words)s",
    "DELETE FROM package_word_set_totals WHERE words = %(words)s",
)
_COUNT = (
    "SELECT ecosystem, status, count(*) FROM package_versions "
    "WHERE search_words @@ plainto_tsquery('simple', %(text)s) GROUP BY 1, 2"
)
_DONE = (
    "UPDATE package_word_sets SET counting = NULL WHERE words = %(words)s AND counting = %(token)s"
)
_ADD_COUNT = (
    "INSERT INTO package_word_set_totals AS t (words, ecosystem, status, versions) "
    "VALUES (%(words)s, %(ecosystem)s, %(status)s, %(versions)s) "
    "ON CONFLICT (words, ecosystem, status) DO UPDATE SET versions = t.versions + excluded.versions"
)


class SetCount:
    """The keeping of one word set: :meth:`start`, then :meth:`count`, then :meth:`finish`.

    Holds two connections of its own: one that writes (two short transactions)
    and one that reads the snapshot the set is counted in.
    """

    def __init__(self, conninfo: str, arguments: dict[str, Any]) -> None:
        self.words: str = arguments["set_key"]
        self.token = secrets.token_hex(8)
        self.counted: list[tuple[str, str, int]] = []
        self._params = {
            "words": self.words,
            "word_list": list(arguments["word_list"]),
            "rarest": arguments["rarest"],
            "most": arguments["most"],
            "token": self.token,
            "text": " ".join(arguments["word_list"]),
        }
        options = "-c TimeZone=UTC"
        self._writer = psycopg.connect(conninfo, options=options)
        try:
            self._reader = psycopg.connect(conninfo, options=options, autocommit=True)
        except psycopg.Error:
            self._writer.close()
            raise

    @classmethod
    def start(cls, conninfo: str, arguments: dict[str, Any]) -> SetCount | None:
        """Add the set as being counted, with the snapshot to count it in.

        ``arguments``: those of a search's keep step (``set_key``, ``word_list``,
        ``rarest``, ``most``). None when the set is kept already or the bound
        on kept sets is reached.
        """
        count = cls(conninfo, arguments)
        try:
            if count._begin():
                return count
        except BaseException:
            count.close()
            raise
        count.close()
        return None

    def _begin(self) -> bool:
        writer, reader, params = self._writer, self._reader, self._params
        with writer.transaction():
            writer.execute(_LOCK)
            row = writer.execute(_COUNTING, params).fetchone()
            if row is None:
                started = writer.execute(_ADD_SET, params).rowcount == 1
            else:
                started = row[0] is not None
                if started:
                    for sql in _TAKE_OVER:
                        writer.execute(sql, params)
            if started:
                # Nothing writes the versions while the lock is held: the snapshot
                # taken now is the versions as of the commit below.
                reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                reader.execute("SELECT 1").fetchone()
        return started

    def count(self) -> None:
        """Count the set's versions in the snapshot (writers carry on meanwhile)."""
        reader = self._reader
        try:
            reader.execute("SET LOCAL work_mem = '64MB'")
            self.counted = [tuple(row) for row in reader.execute(_COUNT, self._params)]
        finally:
            reader.execute("ROLLBACK")

    def finish(self) -> bool:
        """Add the snapshot's count to the changes made since; False when taken over meanwhile."""
        writer, params = self._writer, self._params
        with writer.transaction():
            kept = writer.execute(_DONE, params).rowcount == 1
            if kept:
                writer.cursor().executemany(
                    _ADD_COUNT,
                    [
                        params | {"ecosystem": e, "status": s, "versions": n}
                        for e, s, n in self.counted
                    ],
                )
        return kept

    def close(self) -> None:
        """Close both connections (an unfinished count stays, for another to take over)."""
        self._reader.close()
        self._writer.close()


def keep(conninfo: str, arguments: dict[str, Any]) -> None:
    """Add a word set and count it (see the module); nothing when it is kept already."""
    count = SetCount.start(conninfo, arguments)
    if count is None:
        return
    try:
        count.count()
        count.finish()
    finally:
        count.close()


def conninfo(url: Any) -> str:
    """The libpq connection string of a SQLAlchemy URL (``postgresql+psycopg://``)."""
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))
