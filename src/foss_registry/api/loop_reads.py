"""Package records read straight from the event loop on SQLite, with a validated cache.

DESIGN allows direct ``sqlite3`` calls from async handlers for indexed point
reads. :class:`SQLiteLoopReader` keeps one read-only connection per server
process and a small cache of encoded records. The cache is never stale:
SQLite's ``PRAGMA data_version`` changes whenever any other connection, in this
process or another, commits to the database file, and the cache is dropped
then. So a submission, a review or a scan made anywhere shows on the next
request.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict

import msgspec

from foss_registry.packages import reads

_CACHE_SIZE = 4096

Key = tuple[str, str | None, str | None]


class SQLiteLoopReader:
    """Reads encoded package records on a read-only SQLite connection."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._raw: sqlite3.Connection | None = None
        self._data_version: int | None = None
        self._cache: OrderedDict[Key, bytes] = OrderedDict()

    def _connection(self) -> sqlite3.Connection:
        if self._raw is None:
            raw = sqlite3.connect(
                f"file:{self._path}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            raw.execute("PRAGMA busy_timeout=5000")
            self._raw = raw
        return self._raw

    def record_json(self, name: str, ecosystem: str | None, version: str | None) -> bytes:
        """Return the JSON record of the selected version (raises domain errors like reads)."""
        raw = self._connection()
        key = (name, ecosystem, version)
        # A cached record is current while no connection has committed since it was read.
        if self._fresh(raw):
            body = self._cache.get(key)
            if body is not None:
                self._cache.move_to_end(key)
                return body
        raw.execute("BEGIN")
        try:
            # Checked again inside the read transaction: the record read below is
            # as of this snapshot, so it is cached under this snapshot's version.
            self._fresh(raw)
            record = reads.record(
                reads.sqlite_reader(raw), name, ecosystem=ecosystem, version=version
            )
        finally:
            raw.execute("COMMIT")
        body = msgspec.json.encode(record)
        self._cache[key] = body
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return body

    def _fresh(self, raw: sqlite3.Connection) -> bool:
        """True when nothing was committed since the cache was filled; else empty the cache."""
        data_version = raw.execute("PRAGMA data_version").fetchone()[0]
        if data_version == self._data_version:
            return True
        self._cache.clear()
        self._data_version = data_version
        return False

    def close(self) -> None:
        """Close the connection (the cache goes with it)."""
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        self._cache.clear()

