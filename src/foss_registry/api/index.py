"""The approved-only index at the HTTP edge: ``/simple/`` for pip and uv, ``/npm/`` for npm.

:class:`PackageIndex` sits just inside the HTTP edge (so request ids, security
headers, the access log and metrics apply) and answers every request under
``/simple`` and ``/npm`` itself; the framework never sees them. Pages and
packuments come from upstream (``FOSS_UPSTREAM_PYPI``, ``FOSS_UPSTREAM_NPM``),
are kept in memory for ``FOSS_INDEX_PAGE_SECONDS`` and filtered per request
by the versions' statuses, which are read from the database each time (on
SQLite from the event loop, cached until any connection commits): a decision
shows at the next request, whatever the page's age. Files stream from upstream
into the on-disk cache once, checked against upstream's digest, and are sent
from there with the server's ``pathsend`` (sendfile) or in chunks.

Refusals answer what the clients show: a plain-text body for pip and uv, a
JSON ``{"error"}`` for npm; other errors are problem details (npm's carry an
``error`` member too, which npm prints).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
import msgspec

from foss_registry import metrics
from foss_registry.api import errors
from foss_registry.api.deps import AppContext
from foss_registry.api.record_cache import open_read_only
from foss_registry.auth import service as auth
from foss_registry.auth.service import Principal
from foss_registry.db import read_connection, write_transaction
from foss_registry.errors import (
    DomainError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    UnauthorizedError,
)
from foss_registry.index import gate, npm, pypi
from foss_registry.index.accept import media_ranges
from foss_registry.index.cache import CachedFile, FileCache
from foss_registry.index.errors import BadUpstreamError, NotAcceptableError
from foss_registry.packages.records import Reader, sqlalchemy_reader, sqlite_reader
from foss_registry.upstream import (
    NpmUpstream,
    PyPIUpstream,
    ResponseCache,
    UpstreamConfig,
    UpstreamHttp,
)
from foss_registry.upstream.http import NotFoundError as UpstreamNotFound
from foss_registry.upstream.http import UpstreamError

log = logging.getLogger("foss_registry.index")

SIMPLE = "/simple"
NPM = "/npm"
_HTML = "text/html; charset=utf-8"
_TEXT = b"text/plain; charset=utf-8"
_JSON = b"application/json"
_OCTETS = b"application/octet-stream"
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
#: Largest file the index fetches from upstream.
MAX_FILE_BYTES = 1024**3
_CHUNK = 1024 * 1024
#: Rendered answers kept per process (a page or packument per format and base URL).
_RENDERED = 2048
_NPM_JSON_TYPES = ("application/json", npm.ABBREVIATED_TYPE)

ROUTE_ROOT = "/simple/"
ROUTE_PAGE = "/simple/{project}/"
ROUTE_FILE = "/simple/{project}/{filename}"
ROUTE_PACKUMENT = "/npm/{name}"
ROUTE_TARBALL = "/npm/{name}/-/{filename}"


class Answer(Exception):
    """A finished answer raised from deep inside (a refusal, a redirect)."""

    def __init__(
        self, status: int, body: bytes, content_type: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers


class StatusReader:
    """Versions' statuses by package, read fresh for every request.

    On SQLite the read is an indexed point read from the event loop, and its
    answer is kept until ``PRAGMA data_version`` says any connection committed
    (checked once per loop turn, as :mod:`foss_registry.api.record_cache` does);
    on PostgreSQL it runs on the bounded thread pool.
    """

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._sqlite_path = (
            str(ctx.engine.url.database) if ctx.engine.dialect.name == "sqlite" else None
        )
        self._raw: sqlite3.Connection | None = None
        self._data_version: int | None = None
        self._checked = False
        self._cache: dict[tuple[str, str], Any] = {}

    async def read(self, key: tuple[str, str], fn: Callable[[Reader], Any]) -> Any:
        """Run ``fn`` with a reader (cached on SQLite under ``key`` until the next commit)."""
        if self._sqlite_path is None:

            def work() -> Any:
                with read_connection(self.ctx.engine) as conn:
                    return fn(sqlalchemy_reader(conn))

            return await anyio.to_thread.run_sync(work, limiter=self.ctx.limiter)
        if self._raw is None:
            self._raw = open_read_only(self._sqlite_path)
        raw = self._raw
        if not self._checked:
            version = raw.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:
                self._cache.clear()
                self._data_version = version
            self._checked = True
            asyncio.get_running_loop().call_soon(self._turn_ended)
        if key in self._cache:
            return self._cache[key]
        raw.execute("BEGIN")
        try:
            value = fn(sqlite_reader(raw))
        finally:
            raw.execute("COMMIT")
        if len(self._cache) > 16384:
            self._cache.clear()
        self._cache[key] = value
        return value

    def _turn_ended(self) -> None:
        self._checked = False

    async def statuses(self, ecosystem: str, name: str) -> dict[str, str]:
        """Canonical version → status of every known version of a package."""
        result: dict[str, str] = await self.read(
            (ecosystem, name), lambda r: gate.project_statuses(r, ecosystem, name)
        )
        return result

    async def approved_projects(self, ecosystem: str) -> list[str]:
        """Names with an approved version."""
        result: list[str] = await self.read(
            (ecosystem, "\x00projects"), lambda r: gate.approved_projects(r, ecosystem)
        )
        return result

    def close(self) -> None:
        """Close the SQLite connection."""
        if self._raw is not None:
            self._raw.close()
            self._raw = None


@dataclass
class _Held:
    """An upstream document parsed, and when it was read."""

    at: float
    value: Any


class Upstreams:
    """The upstream readers of this process, and the pages and packuments they last read."""

    def __init__(self, ctx: AppContext) -> None:
        self.config = UpstreamConfig.from_settings(ctx.settings)
        self.seconds = ctx.settings.index_page_seconds
        self.cache_dir = ctx.settings.upstream_cache_dir
        self._http: UpstreamHttp | None = None
        self._held: OrderedDict[tuple[str, str], _Held] = OrderedDict()
        self._inflight: dict[tuple[str, str], asyncio.Future[Any]] = {}

    @property
    def http(self) -> UpstreamHttp:
        """The process's HTTP client (made in the serving event loop)."""
        if self._http is None:
            self._http = UpstreamHttp(
                self.config.limits, cache=ResponseCache(directory=self.cache_dir)
            )
        return self._http

    def base(self, ecosystem: str) -> str:
        """The configured upstream, or a 503 naming the setting."""
        url = self.config.url(ecosystem)
        if not url:
            raise _Unconfigured(
                f"The index has no upstream for {ecosystem}: set FOSS_UPSTREAM_{ecosystem.upper()}."
            )
        return url

    async def held(self, key: tuple[str, str], load: Callable[[], Awaitable[Any]]) -> Any:
        """A document read at most ``seconds`` ago, else read now (once for concurrent asks)."""
        entry = self._held.get(key)
        if entry is not None and time.monotonic() - entry.at < self.seconds:
            return entry.value
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._inflight[key] = future
            try:
                value = await load()
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # retrieved: the waiters (if any) get it too
                raise
            finally:
                self._inflight.pop(key, None)
            future.set_result(value)
            self._held[key] = _Held(time.monotonic(), value)
            self._held.move_to_end(key)
            while len(self._held) > 4096:
                self._held.popitem(last=False)
            return value
        return await asyncio.shield(future)

    async def pypi_page(self, project: str) -> pypi.ProjectPage:
        """The upstream project page, parsed (404 when upstream does not know it)."""

        async def load() -> pypi.ProjectPage:
            reader = PyPIUpstream(self.base("pypi"), self.http)
            response, data = await _ask(reader.page_response(project), "pypi", project)
            page = pypi.parse_project_page(data, response.url, project)
            if "html" in response.content_type and not page.files:
                raise BadUpstreamError(
                    f"The upstream index answered the page of {project!r} with an HTML page "
                    "that lists no files where a PEP 691 JSON page was asked."
                )
            return page

        page: pypi.ProjectPage = await self.held(("pypi", project), load)
        return page

    async def packument(self, name: str) -> dict[str, Any]:
        """The upstream's full packument (404 when upstream does not know the package)."""

        async def load() -> dict[str, Any]:
            reader = NpmUpstream(self.base("npm"), self.http)
            doc = await _ask(reader.packument(name), "npm", name)
            return npm.check_packument(doc, name)

        doc: dict[str, Any] = await self.held(("npm", name), load)
        return doc

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            await self._http.aclose()


class _Unconfigured(DomainError):
    status = 503
    code = "upstream_not_configured"


async def _ask(coroutine: Awaitable[Any], ecosystem: str, name: str) -> Any:
    """Await an upstream read, turning its outcomes into the index's errors."""
    try:
        return await coroutine
    except UpstreamNotFound:
        raise NotFoundError(
            f"The {ecosystem} upstream does not know {name!r}.", code="package_not_found"
        ) from None
    except UpstreamError as exc:
        raise BadUpstreamError(
            f"The {ecosystem} upstream could not give {name!r}: {exc.reason}."
        ) from None


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _bearer_or_basic(scope: Any) -> str | None:
    """The token a client sent: basic-auth password (pip, uv), bearer (npm), or X-API-Key."""
    value = _header(scope, b"authorization")
    if value:
        scheme, _, rest = value.strip().partition(" ")
        if scheme.lower() == "bearer":
            return rest.strip() or None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(rest.strip(), validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                return None
            return decoded.partition(":")[2] or None
    key = _header(scope, b"x-api-key")
    return key.strip() or None if key else None


class PackageIndex:
    """ASGI middleware answering ``/simple/...`` and ``/npm/...`` (see the module docstring)."""

    def __init__(self, app: Any, ctx: AppContext) -> None:
        self.app = app
        self.ctx = ctx
        self.settings = ctx.settings
        self.statuses = StatusReader(ctx)
        self.upstreams = Upstreams(ctx)
        self.cache = FileCache(
            Path(ctx.settings.index_cache_dir), ctx.settings.index_cache_max_bytes
        )
        self._rendered: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Answer the index's paths; hand everything else on."""
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        if path == SIMPLE or path.startswith(SIMPLE + "/"):
            ecosystem = "pypi"
        elif path == NPM or path.startswith(NPM + "/"):
            ecosystem = "npm"
        else:
            await self.app(scope, receive, send)
            return
        try:
            if scope["method"] not in ("GET", "HEAD"):
                scope["path_template"] = SIMPLE if ecosystem == "pypi" else NPM
                raise _MethodNotAllowed(
                    f"The method {scope['method']} is not allowed on {path[:200]!r}; "
                    "the index is read-only."
                )
            if ecosystem == "pypi":
                await self._pypi(scope, send, path)
            else:
                await self._npm(scope, send, path)
        except Answer as answer:
            await _respond(
                send, scope, answer.status, answer.body, answer.content_type, answer.headers
            )
        except DomainError as exc:
            body = errors.problem_body(exc.status, exc.detail, exc.code, exc.errors)
            if ecosystem == "npm":
                body["error"] = exc.detail
            headers = []
            if isinstance(exc, UnauthorizedError):
                headers.append((b"www-authenticate", b'Basic realm="FOSS Registry index"'))
            await _respond(
                send,
                scope,
                exc.status,
                msgspec.json.encode(body),
                errors.PROBLEM_JSON.encode(),
                headers,
            )

    # --- shared --------------------------------------------------------------------------

    async def _principal(self, scope: Any) -> Principal | None:
        """Who asks (None when anonymous); 401/403 when a token is required or invalid."""
        secret = _bearer_or_basic(scope)
        required = self.settings.index_require_token and self.settings.auth_enabled
        if secret is None:
            if required:
                raise UnauthorizedError(
                    "The index needs an API token: pip and uv send it as the password of the "
                    "index URL (http://user:TOKEN@host/simple/), npm as _authToken in .npmrc.",
                    code="missing_api_key",
                )
            return None
        if not (required or self.settings.index_request_on_block):
            return None  # nobody needs to know who asks

        def work() -> Principal:
            with read_connection(self.ctx.engine) as conn:
                return auth.identify(conn, secret, self.ctx.static_tokens)

        try:
            return await anyio.to_thread.run_sync(work, limiter=self.ctx.limiter)
        except ForbiddenError:
            if required:
                raise
            return None

    def _base_url(self, scope: Any) -> str:
        """The registry's absolute base URL: FOSS_PUBLIC_URL, else the request's Host."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        host = _header(scope, b"host")
        if not host or not _HOST.match(host):
            server = scope.get("server") or ("127.0.0.1", 8000)
            host = f"{server[0]}:{server[1]}"
        return f"{scope.get('scheme', 'http')}://{host}"

    def _review_url(self, scope: Any, ecosystem: str, name: str) -> str:
        return f"{self._base_url(scope)}/packages/{ecosystem}/{quote(name, safe='@/')}"

    def _remember(self, key: tuple[Any, ...], body: bytes) -> bytes:
        self._rendered[key] = body
        if len(self._rendered) > _RENDERED:
            self._rendered.popitem(last=False)
        return body

    async def _gate(
        self,
        scope: Any,
        principal: Principal | None,
        *,
        ecosystem: str,
        name: str,
        version: str,
        canonical: str,
        file: str,
    ) -> gate.Verdict:
        """Judge a file request; record it when refused (or would be); maybe ask for review."""
        statuses = await self.statuses.statuses(ecosystem, name)
        mode = self.settings.index_mode
        verdict = gate.judge(mode, statuses.get(canonical))
        if verdict.record:
            client = str((scope.get("state") or {}).get("client_ip") or "unknown")
            ask = (
                self.settings.index_request_on_block
                and not verdict.serve
                and verdict.status == gate.NOT_SUBMITTED
                and principal is not None
                and principal.has_role("submitter")
            )

            def work() -> None:
                with write_transaction(self.ctx.engine) as conn:
                    gate.record_blocked(
                        conn,
                        ecosystem=ecosystem,
                        name=name,
                        version=version,
                        file=file,
                        status=verdict.status,
                        mode=mode,
                        client=client,
                    )
                if ask and principal is not None:
                    with write_transaction(self.ctx.engine) as conn:
                        gate.request_review(
                            conn,
                            ecosystem=ecosystem,
                            name=name,
                            version=version,
                            submitted_by=principal.name,
                        )

            await anyio.to_thread.run_sync(work, limiter=self.ctx.limiter)
            metrics.INDEX_BLOCKED.labels(ecosystem, mode).inc()
        return verdict

    async def _serve_file(
        self,
        scope: Any,
        send: Any,
        parts: tuple[str, ...],
        fetch: Callable[[], Awaitable[tuple[str, tuple[str, str]]]],
        what: str,
    ) -> None:
        """Send a file from the cache, fetching it from upstream into the cache first."""
        cached = self.cache.get(parts)
        if cached is None:
            url, digest = await fetch()
            try:
                async with self.upstreams.http.stream(url, max_bytes=MAX_FILE_BYTES) as (_, chunks):
                    cached = await self.cache.fill(parts, chunks, digest, what)
            except UpstreamNotFound:
                raise NotFoundError(f"The upstream no longer serves {what}.") from None
            except UpstreamError as exc:
                raise BadUpstreamError(
                    f"The upstream could not give {what}: {exc.reason}."
                ) from None
        await _send_file(send, scope, cached)

    # --- PyPI ----------------------------------------------------------------------------

    async def _pypi(self, scope: Any, send: Any, path: str) -> None:
        segments = path[len(SIMPLE) + 1 :].split("/") if path != SIMPLE else []
        if not segments or segments == [""]:
            scope["path_template"] = ROUTE_ROOT
            if path == SIMPLE:
                raise _redirect(SIMPLE + "/")
            await self._principal(scope)
            content_type = pypi.negotiate(_header(scope, b"accept"))
            projects = await self.statuses.approved_projects("pypi")
            body = pypi.render_root(projects, content_type)
            await _respond(send, scope, 200, body, content_type.encode(), _PAGE_HEADERS)
            return
        if len(segments) == 1 or (len(segments) == 2 and segments[1] == ""):
            scope["path_template"] = ROUTE_PAGE
            project = pypi.project_name(segments[0])
            if len(segments) == 1:
                raise _redirect(f"{SIMPLE}/{project}/")
            await self._pypi_page(scope, send, project)
            return
        scope["path_template"] = ROUTE_FILE
        if len(segments) != 2:
            raise NotFoundError(
                f"No index path {path[:200]!r}; pages are /simple/<project>/ and files "
                "/simple/<project>/<file>.",
                code="not_found",
            )
        project = pypi.project_name(segments[0])
        await self._pypi_file(scope, send, project, pypi.check_filename(segments[1]))

    async def _pypi_page(self, scope: Any, send: Any, project: str) -> None:
        await self._principal(scope)
        content_type = pypi.negotiate(_header(scope, b"accept"))
        page = await self.upstreams.pypi_page(project)
        if self.settings.index_mode == "audit":
            allowed: frozenset[str] | None = None
        else:
            allowed = gate.approved(await self.statuses.statuses("pypi", project))
        key = ("pypi", project, content_type, id(page), allowed)
        body = self._rendered.get(key)
        if body is None:
            files = (
                [f for f in page.files if f.version is not None]
                if allowed is None
                else pypi.approved_files(page, allowed)
            )
            versions = [v for v in page.versions if allowed is None or v in allowed]
            body = self._remember(key, pypi.render(page, files, versions, content_type))
        await _respond(send, scope, 200, body, content_type.encode(), _PAGE_HEADERS)

    async def _pypi_file(self, scope: Any, send: Any, project: str, filename: str) -> None:
        principal = await self._principal(scope)
        metadata = filename.endswith(".metadata")
        dist = filename[: -len(".metadata")] if metadata else filename
        parsed = pypi.file_version(dist, project)
        if parsed is None:
            raise NotFoundError(
                f"{filename!r} is not a distribution file of the PyPI project {project!r}.",
                code="not_found",
            )
        verdict = await self._gate(
            scope,
            principal,
            ecosystem="pypi",
            name=project,
            version=str(parsed),
            canonical=pypi.canonical(parsed),
            file=filename,
        )
        if not verdict.serve:
            message = gate.refusal(
                project, str(parsed), verdict.status, self._review_url(scope, "pypi", project)
            )
            raise Answer(403, message.encode() + b"\n", _TEXT, [])

        async def fetch() -> tuple[str, tuple[str, str]]:
            page = await self.upstreams.pypi_page(project)
            entry = page.file(dist)
            if entry is None or (metadata and not entry.core_metadata):
                raise NotFoundError(
                    f"The PyPI upstream lists no file {filename!r} for {project!r}.",
                    code="not_found",
                )
            digest = entry.metadata_digest() if metadata else entry.digest()
            if digest is None:
                raise BadUpstreamError(
                    f"The PyPI upstream publishes no hash for {filename!r}, so its bytes "
                    "cannot be checked; the index does not serve it."
                )
            return entry.url + (".metadata" if metadata else ""), digest

        await self._serve_file(scope, send, ("pypi", project, filename), fetch, repr(filename))

    # --- npm -----------------------------------------------------------------------------

    async def _npm(self, scope: Any, send: Any, path: str) -> None:
        rest = path[len(NPM) + 1 :] if path != NPM else ""
        segments = rest.split("/")
        if not rest or segments[0] == "-":
            scope["path_template"] = NPM + "/-/{path}"
            if rest in ("-/ping", "-/ping/"):
                await _respond(send, scope, 200, b"{}", _JSON, [])
                return
            raise NotFoundError(
                f"The index does not answer {path[:200]!r}; it serves packuments and tarballs.",
                code="not_found",
            )
        count = 2 if segments[0].startswith("@") else 1
        if len(segments) < count:
            raise InvalidInputError(
                f"{rest[:80]!r} is not a valid npm package name.", code="invalid_name"
            )
        name = npm.package_name("/".join(segments[:count]))
        tail = segments[count:]
        if not tail or tail == [""]:
            scope["path_template"] = ROUTE_PACKUMENT
            await self._packument(scope, send, name)
            return
        scope["path_template"] = ROUTE_TARBALL
        if len(tail) != 2 or tail[0] != "-":
            raise NotFoundError(
                f"No index path {path[:200]!r}; tarballs are /npm/<name>/-/<file>.tgz.",
                code="not_found",
            )
        await self._tarball(scope, send, name, tail[1])

    def _npm_type(self, scope: Any) -> str:
        accept = _header(scope, b"accept")
        if not accept:
            return "application/json"
        best: tuple[float, int, int] | None = None
        chosen = None
        for media, quality in media_ranges(accept):
            for rank, offered in enumerate(_NPM_JSON_TYPES):
                if quality > 0 and media in (offered, "*/*", "application/*"):
                    # A type named outright beats a wildcard of the same quality.
                    score = (quality, int(media == offered), -rank)
                    if best is None or score > best:
                        best, chosen = score, offered
                    break
        if chosen is None:
            raise NotAcceptableError(
                f"The index answers {' or '.join(_NPM_JSON_TYPES)}; the request accepts neither."
            )
        return chosen

    async def _packument(self, scope: Any, send: Any, name: str) -> None:
        await self._principal(scope)
        content_type = self._npm_type(scope)
        doc = await self.upstreams.packument(name)
        audit = self.settings.index_mode == "audit"
        statuses = await self.statuses.statuses("npm", name)
        allowed = gate.approved(statuses)
        if audit:
            kept: frozenset[str] | None = None
        else:
            kept = allowed
            if not npm.approved_versions(doc, allowed):
                message = (
                    f"No version of {name} is approved for installation. Request a review at "
                    f"{self._review_url(scope, 'npm', name)}"
                )
                raise Answer(404, msgspec.json.encode({"error": message}), _JSON, [])
        base = self._base_url(scope)
        key = ("npm", name, content_type, id(doc), kept, base)
        body = self._rendered.get(key)
        if body is None:
            versions = (
                {c for c in (npm.canonical(v) for v in doc.get("versions", {})) if c}
                if kept is None
                else kept
            )
            filtered = npm.filter_packument(
                doc, versions, base, abbreviated=content_type == npm.ABBREVIATED_TYPE
            )
            body = self._remember(key, msgspec.json.encode(filtered))
        await _respond(send, scope, 200, body, content_type.encode(), _PAGE_HEADERS)

    async def _tarball(self, scope: Any, send: Any, name: str, filename: str) -> None:
        principal = await self._principal(scope)
        version = npm.tarball_version(name, filename)
        canonical = npm.canonical(version) or version
        verdict = await self._gate(
            scope,
            principal,
            ecosystem="npm",
            name=name,
            version=version,
            canonical=canonical,
            file=filename,
        )
        if not verdict.serve:
            message = gate.refusal(
                name, version, verdict.status, self._review_url(scope, "npm", name)
            )
            raise Answer(403, msgspec.json.encode({"error": message}), _JSON, [])

        async def fetch() -> tuple[str, tuple[str, str]]:
            doc = await self.upstreams.packument(name)
            found = npm.upstream_tarball(doc, version)
            if found is None:
                raise NotFoundError(
                    f"The npm upstream lists no tarball with a digest for {name}@{version}.",
                    code="not_found",
                )
            return found

        parts = ("npm", *name.split("/"), filename)
        await self._serve_file(scope, send, parts, fetch, f"{name}@{version}")

    async def aclose(self) -> None:
        """Release the upstream client and the SQLite connection."""
        await self.upstreams.aclose()
        self.statuses.close()


class _MethodNotAllowed(DomainError):
    status = 405
    code = "method_not_allowed"


_PAGE_HEADERS = [(b"cache-control", b"no-cache")]


def _redirect(location: str) -> Answer:
    return Answer(301, b"", _TEXT, [(b"location", location.encode())])


async def _respond(
    send: Any,
    scope: Any,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    head = scope["method"] == "HEAD"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _send_file(send: Any, scope: Any, cached: CachedFile) -> None:
    """Send a cached file: the server's pathsend (sendfile) when it has it, else in chunks."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", _OCTETS),
                (b"content-length", str(cached.size).encode()),
                (b"cache-control", b"private, no-cache"),
            ],
        }
    )
    if scope["method"] == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return
    if "http.response.pathsend" in (scope.get("extensions") or {}):
        await send({"type": "http.response.pathsend", "path": str(cached.path)})
        return
    handle = await anyio.to_thread.run_sync(cached.path.open, "rb")
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(handle.read, _CHUNK)
            if not chunk:
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        handle.close()
