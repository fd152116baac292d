"""The one HTTP client every upstream reader uses: bounded, revalidating, same-host only.

Every request has a short timeout and an overall deadline (a server that
trickles bytes cannot hold a job), a bounded number of retries with
exponential backoff (connection errors, timeouts, 429 and 5xx), a size limit
enforced while the body streams in, and no redirect to another host. Bodies
are cached with their validators (``ETag`` / ``Last-Modified``): a second read
sends a conditional request and a ``304`` answers from the cache.

The client is asynchronous (the index serves from async handlers); synchronous
callers such as the enrichment job run a coroutine with :func:`run_sync`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

#: Default limit of one document (a packument, a project page, a POM).
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_REDIRECTS = 5
#: An unread body up to this size (a 304, a redirect, a 404 page) is read to its end, so
#: that its connection goes back to the pool instead of being closed.
_DRAIN_BYTES = 64 * 1024

T = TypeVar("T")


class UpstreamError(Exception):
    """Base of the upstream outcomes that are not a document."""

    def __init__(self, reason: str, *, url: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url


class NotFoundError(UpstreamError):
    """The upstream answered that it does not know the name, version or file (404/410)."""


class UnavailableError(UpstreamError):
    """The upstream could not be asked or gave no usable answer (a reason says why)."""


class NotConfiguredError(UpstreamError):
    """No configured upstream serves this name (a Docker image of another registry)."""


class RedirectRefusedError(UnavailableError):
    """The upstream redirected to another host, which is never followed."""


class AuthenticationRequiredError(UnavailableError):
    """The upstream answered 401; ``challenge`` is its ``WWW-Authenticate`` header."""

    def __init__(self, reason: str, *, url: str | None = None, challenge: str = "") -> None:
        super().__init__(reason, url=url)
        self.challenge = challenge


@dataclass(frozen=True)
class Response:
    """A whole response body read within the limits, fresh or from the cache after a 304."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    #: True when the upstream answered 304 and the body came from the cache.
    revalidated: bool = False

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON (``UnavailableError`` when it is not)."""
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise UnavailableError(
                f"the upstream answered {self.content_type or 'a body'} that is not JSON",
                url=self.url,
            ) from exc


@dataclass(frozen=True)
class CachedEntry:
    """A cached body with the validators it came with."""

    etag: str | None
    last_modified: str | None
    headers: dict[str, str]
    body: bytes


class ResponseCache:
    """Validators and bodies by URL (and ``Accept``), in memory, bounded by total size.

    With a directory, entries are also written there so that other processes
    (``foss enrich``, other workers) revalidate instead of downloading again.
    Thread-safe: the index's event loop and the job worker's thread share it.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024, directory: Path | None = None) -> None:
        self.max_bytes = max_bytes
        self.directory = directory
        self._entries: OrderedDict[str, CachedEntry] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(url: str, accept: str | None) -> str:
        """The cache key of a request."""
        return f"{accept or ''} {url}"

    def _path(self, key: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> CachedEntry | None:
        """The entry of a request, if one is kept."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
        path = self._path(key)
        if path is None:
            return None
        try:
            meta = json.loads(path.with_suffix(".json").read_text())
            body = path.read_bytes()
        except (OSError, ValueError):
            return None
        entry = CachedEntry(meta.get("etag"), meta.get("last_modified"), meta["headers"], body)
        self._remember(key, entry)
        return entry

    def put(self, key: str, entry: CachedEntry) -> None:
        """Keep an entry (only worth it when it carries a validator)."""
        if entry.etag is None and entry.last_modified is None:
            return
        self._remember(key, entry)
        path = self._path(key)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(entry.body)
                tmp.replace(path)
                meta = {
                    "etag": entry.etag,
                    "last_modified": entry.last_modified,
                    "headers": entry.headers,
                }
                path.with_suffix(".json").write_text(json.dumps(meta))
            except OSError:
                pass  # a cache that cannot be written only costs a download

    def _remember(self, key: str, entry: CachedEntry) -> None:
        if len(entry.body) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old.body)
            self._entries[key] = entry
            self._size += len(entry.body)
            while self._size > self.max_bytes and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self._size -= len(evicted.body)


@dataclass(frozen=True)
class HttpLimits:
    """Timeouts, retries and sizes of upstream requests."""

    #: Connect and per-read timeout, seconds.
    timeout: float = 5.0
    #: Deadline of one attempt, whole body included, seconds.
    deadline: float = 10.0
    #: Retries after the first attempt (connection errors, timeouts, 429, 5xx).
    retries: int = 2
    #: First backoff, seconds; doubled at each retry.
    backoff: float = 0.25
    #: Largest body of a document, bytes.
    max_bytes: int = DEFAULT_MAX_BYTES


def without_credentials(url: str) -> str:
    """A URL without its ``user:password@`` part, fit to be stored or shown."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _same_origin(a: str, b: str) -> bool:
    sa, sb = urlsplit(a), urlsplit(b)
    return (sa.scheme, sa.hostname, sa.port) == (sb.scheme, sb.hostname, sb.port)


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or failed"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection closed without a complete answer"
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class UpstreamHttp:
    """An asynchronous HTTP client for upstream registries (see the module docstring).

    One instance belongs to one event loop; its :class:`ResponseCache` may be
    shared between instances and threads.
    """

    def __init__(
        self,
        limits: HttpLimits | None = None,
        *,
        cache: ResponseCache | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.limits = limits or HttpLimits()
        self.cache = cache if cache is not None else ResponseCache()
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.limits.timeout),
            follow_redirects=False,
            headers={"User-Agent": "foss-registry", **(headers or {})},
            transport=transport,
        )
        #: Requests sent (attempts, redirects included); for tests and metrics.
        self.requests_sent = 0

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()

    async def __aenter__(self) -> UpstreamHttp:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def get(
        self,
        url: str,
        *,
        accept: str | None = None,
        max_bytes: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Read a whole document within the limits, revalidating a cached copy.

        ``headers`` are sent as well (a registry's bearer token); they are not
        part of the cache key. Raises :class:`NotFoundError` on 404/410,
        :class:`AuthenticationRequiredError` on 401 and :class:`UnavailableError`
        with a reason on anything else that is not a 200 or a 304.
        """
        limit = max_bytes or self.limits.max_bytes
        key = ResponseCache.key(url, accept)
        cached = self.cache.get(key)
        headers = dict(headers or {}) | ({"Accept": accept} if accept else {})
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified

        async def attempt() -> Response:
            async with self._open(url, headers) as response:
                final_url = str(response.url)
                if response.status_code == 304 and cached is not None:
                    return Response(final_url, 200, cached.headers, cached.body, revalidated=True)
                self._raise_for_status(response, final_url)
                body = await self._read(response, limit, final_url)
                kept = {k.lower(): v for k, v in response.headers.items()}
                return Response(final_url, response.status_code, kept, body)

        result = await self._with_retries(attempt, url)
        if not result.revalidated:
            self.cache.put(
                key,
                CachedEntry(
                    result.headers.get("etag"),
                    result.headers.get("last-modified"),
                    result.headers,
                    result.body,
                ),
            )
        return result

    @asynccontextmanager
    async def stream(
        self, url: str, *, max_bytes: int | None = None, chunk_size: int = 64 * 1024
    ) -> AsyncIterator[tuple[dict[str, str], AsyncIterator[bytes]]]:
        """Stream a file: yields its headers and an iterator of chunks.

        The connection is retried until the headers arrive; the body is then
        read once, with the per-read timeout, aborting past ``max_bytes``.
        """
        limit = max_bytes or self.limits.max_bytes
        cm: Any = None

        async def attempt() -> tuple[Any, httpx.Response]:
            manager = self._open(url, {})
            response = await manager.__aenter__()
            try:
                self._raise_for_status(response, str(response.url))
            except BaseException:
                await manager.__aexit__(None, None, None)
                raise
            return manager, response

        cm, response = await self._with_retries(attempt, url)
        try:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise UnavailableError(f"the file is larger than {limit} bytes", url=url)

            async def chunks() -> AsyncIterator[bytes]:
                seen = 0
                try:
                    async for chunk in response.aiter_bytes(chunk_size):
                        seen += len(chunk)
                        if seen > limit:
                            raise UnavailableError(
                                f"the file is larger than {limit} bytes", url=url
                            )
                        yield chunk
                except httpx.HTTPError as exc:
                    raise UnavailableError(
                        f"reading the file failed: {_describe(exc)}", url=url
                    ) from exc

            kept = {k.lower(): v for k, v in response.headers.items()}
            yield kept, chunks()
        finally:
            await cm.__aexit__(None, None, None)

    @asynccontextmanager
    async def _open(self, url: str, headers: dict[str, str]) -> AsyncIterator[httpx.Response]:
        """Send a GET, following redirects on the same origin only."""
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            self.requests_sent += 1
            request = self._client.build_request("GET", current, headers=headers)
            response = await self._client.send(request, stream=True)
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("location")
                await self._release(response)
                if not location:
                    raise UnavailableError("a redirect without a Location", url=current)
                target = urljoin(current, location)
                if not _same_origin(current, target):
                    host = urlsplit(target).hostname
                    raise RedirectRefusedError(
                        f"the upstream redirected to another host ({host}); refused", url=current
                    )
                current = target
                continue
            try:
                yield response
            finally:
                await self._release(response)
            return
        raise UnavailableError(f"more than {_MAX_REDIRECTS} redirects", url=url)

    async def _release(self, response: httpx.Response) -> None:
        """Close a response, first reading a small unread body so its connection is reused.

        The pool only keeps a connection whose last answer was read to its end;
        a 304 or a 404 left unread would cost a new connection each time.
        """
        try:
            if not response.is_stream_consumed and not response.is_closed:
                declared = response.headers.get("content-length")
                small = response.status_code in (204, 304) or (
                    declared is not None and declared.isdigit() and int(declared) <= _DRAIN_BYTES
                )
                if small:
                    async with asyncio.timeout(self.limits.timeout):
                        await response.aread()
        except (httpx.HTTPError, TimeoutError):
            pass  # the connection is closed below, as it would have been
        finally:
            await response.aclose()

    @staticmethod
    def _raise_for_status(response: httpx.Response, url: str) -> None:
        status = response.status_code
        if status in (200, 203):
            return
        if status in (404, 410):
            raise NotFoundError(f"the upstream answered {status}", url=url)
        if status == 401:
            raise AuthenticationRequiredError(
                "the upstream answered 401 (authentication required)",
                url=url,
                challenge=response.headers.get("www-authenticate", ""),
            )
        if status in _RETRY_STATUSES:
            raise _Retryable(f"the upstream answered {status}", url=url)
        raise UnavailableError(f"the upstream answered {status}", url=url)

    async def _read(self, response: httpx.Response, limit: int, url: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise UnavailableError(
                f"the response is larger than {limit} bytes ({declared} declared)", url=url
            )
        parts: list[bytes] = []
        seen = 0
        async for chunk in response.aiter_bytes():
            seen += len(chunk)
            if seen > limit:
                raise UnavailableError(f"the response is larger than {limit} bytes", url=url)
            parts.append(chunk)
        return b"".join(parts)

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]], url: str) -> T:
        delay = self.limits.backoff
        last = "no attempt"
        for number in range(self.limits.retries + 1):
            if number:
                await asyncio.sleep(delay)
                delay *= 2
            try:
                async with asyncio.timeout(self.limits.deadline):
                    return await attempt()
            except _Retryable as exc:
                last = exc.reason
            except (httpx.TransportError, TimeoutError) as exc:
                last = _describe(exc)
            except httpx.HTTPError as exc:
                raise UnavailableError(_describe(exc), url=url) from exc
        tries = self.limits.retries + 1
        raise UnavailableError(
            f"{last} ({tries} attempt{'s' if tries > 1 else ''})", url=url
        )


class _Retryable(UnavailableError):
    """A status worth asking again (429, 5xx)."""


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from synchronous code (a job, a command) in a fresh event loop."""
    return asyncio.run(coroutine)
