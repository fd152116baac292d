"""Package records read straight from the event loop on SQLite, with a validated cache.

DESIGN allows direct ``sqlite3`` calls from async handlers for indexed point
reads. :class:`RecordCache` keeps one read-only connection per server
process and a small cache of encoded records. The cache is never stale:
SQLite's ``PRAGMA data_version`` changes whenever any other connection, in this
process or another, commits to the database file, and the cache is dropped
then. So a submission, a review or a scan made anywhere shows on the next
request. :class:`EncodedRecords` is the cache itself, which the PostgreSQL
reads (:mod:`foss_registry.api.postgres_reads`) share.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import OrderedDict

import msgspec

from foss_registry.packages import records as reads
from foss_registry.search_index import register_sqlite_functions

#: Records kept per process (about 0.7 KB each).
_CACHE_SIZE = 16384

Key = tuple[str, str | None, str | None]


class EncodedRecords:
    """The encoded records last read, by (name, ecosystem, version), least recent dropped first."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._bodies: OrderedDict[Key, bytes] = OrderedDict()

    def get(self, key: Key) -> bytes | None:
        """The cached body, or None."""
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
        return body

    def put(self, key: Key, body: bytes) -> None:
        """Keep a body (dropping the least recently used one beyond the size)."""
        self._bodies[key] = body
        if len(self._bodies) > self._size:
            self._bodies.popitem(last=False)

    def clear(self) -> None:
        """Forget every body."""
        self._bodies.clear()


def open_read_only(path: str) -> sqlite3.Connection:
    """A read-only connection to the SQLite file, in autocommit mode (transactions by hand)."""
    raw = sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    raw.execute("PRAGMA busy_timeout=5000")
    register_sqlite_functions(raw)
    return raw


class RecordCache:
    """Reads encoded package records on a read-only SQLite connection."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._raw: sqlite3.Connection | None = None
        self._data_version: int | None = None
        self._checked = False
        self._cache = EncodedRecords()

    def _connection(self) -> sqlite3.Connection:
        if self._raw is None:
            self._raw = open_read_only(self._path)
        return self._raw

    def record_json(self, name: str, ecosystem: str | None, version: str | None) -> bytes:
        """Return the JSON record of the selected version (raises domain errors like reads)."""
        raw = self._connection()
        self._revalidate(raw)
        key = (name, ecosystem, version)
        body = self._cache.get(key)
        if body is not None:
            return body
        raw.execute("BEGIN")
        try:
            # This snapshot is at least as new as the check above, so the record
            # is never older than the version it is cached under.
            record = reads.record(
                reads.sqlite_reader(raw), name, ecosystem=ecosystem, version=version
            )
        finally:
            raw.execute("COMMIT")
        body = msgspec.json.encode(record)
        self._cache.put(key, body)
        return body

    async def read(self, name: str, ecosystem: str | None, version: str | None) -> bytes:
        """:meth:`record_json` as the fast reads call it (on SQLite it never waits)."""
        return self.record_json(name, ecosystem, version)

    def _revalidate(self, raw: sqlite3.Connection) -> None:
        """Empty the cache if any connection committed since it was last checked.

        Checked once per turn of the event loop: every request served in a turn
        was received before the turn began, so whatever its client saw
        committed before sending it was committed before this check too. The
        check is marked stale by a callback queued behind the requests already
        waiting, so none received after it can rely on it.
        """
        if self._checked:
            return
        data_version = raw.execute("PRAGMA data_version").fetchone()[0]
        if data_version != self._data_version:
            self._cache.clear()
            self._data_version = data_version
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside an event loop: check every time
            return
        self._checked = True
        loop.call_soon(self._turn_ended)

    def _turn_ended(self) -> None:
        self._checked = False

    def close(self) -> None:
        """Close the connection (the cache goes with it)."""
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        self._cache.clear()
