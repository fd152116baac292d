"""Package records read straight from the event loop on SQLite, with a validated cache.

DESIGN allows direct ``sqlite3`` calls from async handlers for indexed point
reads. :class:`SQLiteLoopReader` keeps one read-only connection per server
process and a small cache of encoded records. The cache is never stale:
SQLite's ``PRAGMA data_version`` changes whenever any other connection, in this
process or another, commits to the database file, and the cache is dropped
then. So a submission, a review or a scan made anywhere shows on the next
request.

``GET /api/v1/packages/{name}`` is the request CI pipelines make most. On
SQLite, :class:`PackageReadFastPath` answers its plain, successful form below
the HTTP edge (so request ids, security headers, metrics and rate limits still
apply) without the framework's routing and parameter machinery, which costs
several times the cached read itself. It answers only when it is sure; any
other form of the request (other query parameters, odd slashes, a method other
than GET) and every error go on to the framework's handler, which stays the one
documented route and the one place errors are shaped.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl

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


#: The route the fast path serves, as the framework names it in metrics and logs.
DETAIL_ROUTE = "/api/v1/packages/{name}"
_DETAIL_PREFIX = "/api/v1/packages/"
# Query parameters the detail route takes, with their maximum lengths (as declared there).
_DETAIL_PARAMETERS = {"ecosystem": 32, "version": 128}
_JSON = b"application/json"


def _plain_query(query_string: bytes) -> dict[str, str] | None:
    """The detail route's parameters, or None when the query needs the framework to judge it."""
    if not query_string:
        return {}
    try:
        pairs = parse_qsl(
            query_string.decode("ascii"), keep_blank_values=True, strict_parsing=True
        )
    except (UnicodeDecodeError, ValueError):
        return None
    params = dict(pairs)
    if len(params) != len(pairs) or any(
        key not in _DETAIL_PARAMETERS or len(value) > _DETAIL_PARAMETERS[key]
        for key, value in params.items()
    ):
        return None
    return params


class PackageReadFastPath:
    """ASGI middleware answering plain ``GET /api/v1/packages/{name}`` reads on SQLite."""

    def __init__(self, app: Any, reader: SQLiteLoopReader, *, cors: bool = False) -> None:
        self.app = app
        self.reader = reader
        # With CORS on, cross-origin requests need the framework's CORS headers.
        self.cors = cors

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Answer a successful detail read, or hand the request on unchanged."""
        body = self._answer(scope) if scope["type"] == "http" else None
        if body is None:
            await self.app(scope, receive, send)
            return
        scope["path_template"] = DETAIL_ROUTE
        headers = [(b"content-type", _JSON), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _answer(self, scope: Any) -> bytes | None:
        path: str = scope["path"]
        if scope["method"] != "GET" or not path.startswith(_DETAIL_PREFIX):
            return None
        name = path[len(_DETAIL_PREFIX) :]
        if not name or name[0] == "/" or name[-1] == "/":
            return None
        params = _plain_query(scope["query_string"])
        if params is None:
            return None
        if self.cors and any(key == b"origin" for key, _ in scope["headers"]):
            return None
        try:
            return self.reader.record_json(name, params.get("ecosystem"), params.get("version"))
        except Exception:  # errors are the framework's to shape and report
            return None
