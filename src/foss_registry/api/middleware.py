"""The HTTP edge around every request: client address, request id, headers, log line, metrics.

:class:`EdgeMiddleware` wraps the whole application (unknown routes, 405 and
500 answers included):

- the **client address** is the socket's peer; ``X-Forwarded-For`` is believed
  only when that peer is a proxy named in ``FOSS_TRUSTED_PROXIES`` (addresses or
  networks), and then the right-most address that is not itself a trusted proxy
  is the client. The ASGI server's own proxy-header handling stays off, so a
  spoofed header from anywhere else changes nothing;
- a **request id** (the caller's ``X-Request-ID`` when it is a short token, else
  a new one) is returned as ``X-Request-ID`` and stamped on every log line
  written while serving the request;
- the **path** is made canonical once (repeated slashes collapsed, ``.`` and
  ``..`` segments resolved), so the rate limiter, the fast reads, the router,
  the metrics' route label and the log all see the one path the router routes:
  no spelling of a route (``//api/v1/...``) escapes a limit;
- a request **refused before its body was read** (401, 413, 429...) has the
  rest of its announced body (``Content-Length``) read and dropped, up to
  ``DRAIN_LIMIT`` bytes and ``DRAIN_SECONDS``, before the answer goes out, so
  the connection stays usable for the client's next request; a larger, slower
  or chunked remainder is not read and the answer says ``Connection: close``,
  so no client reuses a connection the server closes;
- **security headers** are added to every response;
- one **access log line** per request, and the request counter and latency
  histogram labelled by route template (never the raw path).

Which routes need a key, and which role, is declared on each route
(:mod:`foss_registry.api.roles`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import os
import posixpath
import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.exceptions import HTTPException

from foss_registry import metrics
from foss_registry.api.fast_reads import FastReads, SQLiteThreadReaders
from foss_registry.api.index import PackageIndex
from foss_registry.api.ratelimit import HEADERS_STATE, RateLimiter, RateLimitMiddleware
from foss_registry.api.roles import KEY_STATE
from foss_registry.auth.service import Principal
from foss_registry.config import REQUEST_READ_TIMEOUT_SECONDS, Settings
from foss_registry.logs import request_id_var

access_log = logging.getLogger("foss_registry.access")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED_ROUTE = "<unmatched>"

#: Headers every response carries (unless the application set its own value).
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)
# JSON answers load nothing; HTML pages (the docs) load only their own assets.
CSP_API = b"default-src 'none'; frame-ancestors 'none'"
CSP_HTML = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    b"frame-ancestors 'none'"
)
HSTS = b"max-age=31536000; includeSubDomains"
#: Most bytes of an unread request body read and dropped to keep its connection open.
DRAIN_LIMIT = 16 * 1024 * 1024
#: Longest wait for that rest to arrive.
DRAIN_SECONDS = 10.0
# Characters a path keeps unquoted when it is written back as the raw path.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def canonical_path(path: str) -> str:
    """The path with repeated slashes collapsed and dot segments resolved (RFC 3986 5.2.4)."""
    if "//" not in path and "/." not in path:
        return path
    canonical = posixpath.normpath(path)
    # normpath keeps a leading "//" (POSIX leaves it to the system) and drops a trailing "/".
    canonical = "/" + canonical.lstrip("/") if canonical != "." else "/"
    if path.endswith("/") and canonical != "/":
        canonical += "/"
    return canonical


class _Body:
    """Whether a request's body was read to its end, and reading what is left."""

    def __init__(self, scope: Any, receive: Any) -> None:
        self._receive = receive
        self.length: int | None = None
        self.expected = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    self.length = int(value)
                except ValueError:
                    self.length = None
                self.expected = self.length != 0
            elif name == b"transfer-encoding":
                self.expected = True
        self.received = 0
        self.done = not self.expected
        self.disconnected = False
        # The client paused longer than the read timeout mid-body (answered 408).
        self.stalled = False

    async def receive(self) -> Any:
        try:
            message = await self._receive()
        except HTTPException:
            self.stalled = True
            raise
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.done = True
        elif message["type"] == "http.disconnect":
            self.done = self.disconnected = True
        return message

    async def drain(self) -> bool:
        """Read and drop the announced rest if small and quick to come; True when all read.

        A body without a length (chunked) is not read: it could go on for ever; nor is
        the rest of a client that already paused too long (its connection is closed).
        """
        if self.stalled or self.length is None or self.length - self.received > DRAIN_LIMIT:
            return False
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                while not self.done:
                    await self.receive()
        except (TimeoutError, HTTPException):  # HTTPException: the client paused (408)
            return False
        return not self.disconnected


# Request ids: random per process, then counted; unique without a random draw per request.
_ID_PREFIX = os.urandom(8).hex()
_id_counter = itertools.count(1)


def _new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_id_counter):08x}"


def parse_trusted_proxies(spec: str) -> tuple[IPNetwork, ...]:
    """Parse ``FOSS_TRUSTED_PROXIES``: comma-separated addresses or networks (CIDR)."""
    networks = []
    for entry in (e.strip() for e in spec.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"FOSS_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from None
    return tuple(networks)


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted(address: str, trusted: Iterable[IPNetwork]) -> bool:
    ip = _parse_ip(address)
    return ip is not None and any(ip in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: list[str], trusted: tuple[IPNetwork, ...]
) -> str:
    """Return the client's address given the socket peer and any ``X-Forwarded-For`` values.

    The header is used only when the peer is a trusted proxy; then hops are read
    from the right, skipping trusted proxies, and the first other address is the
    client (each proxy appends the address it received from, so only the
    right-most entries are vouched for).
    """
    if peer is None:
        return "unknown"
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if _is_trusted(hop, trusted):
            continue
        ip = _parse_ip(hop)
        return str(ip) if ip is not None else peer
    first = _parse_ip(hops[0]) if hops else None
    return str(first) if first is not None else peer


class EdgeMiddleware:
    """ASGI middleware applied to every HTTP request of the application."""

    def __init__(self, app: Any, trusted_proxies: tuple[IPNetwork, ...]) -> None:
        self.app = app
        self.trusted = trusted_proxies

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve one request with its id, client address, headers, log line and metrics."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = canonical_path(scope["path"])
        if path != scope["path"]:
            scope["path"] = path
            scope["raw_path"] = quote(path, safe=_PATH_SAFE).encode("ascii")
        # A client that pauses mid-body is answered 408 (see _bounded_receive).
        body = _Body(scope, _bounded_receive(receive))
        headers = scope.get("headers", ())
        forwarded_for: list[str] = []
        forwarded_proto: str | None = None
        incoming_id: str | None = None
        for name, value in headers:
            if name == b"x-forwarded-for":
                forwarded_for.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                forwarded_proto = value.decode("latin-1").split(",")[0].strip().lower()
            elif name == b"x-request-id":
                incoming_id = value.decode("latin-1").strip()
        peer = scope["client"][0] if scope.get("client") else None
        if self.trusted:
            client_ip = client_address(peer, forwarded_for, self.trusted)
            if client_ip != peer:
                scope["client"] = (client_ip, 0)
            from_trusted_proxy = peer is not None and _is_trusted(peer, self.trusted)
            if from_trusted_proxy and forwarded_proto in ("http", "https"):
                scope["scheme"] = forwarded_proto
        else:
            client_ip = peer or "unknown"
        request_id = (
            incoming_id if incoming_id and _REQUEST_ID_RE.match(incoming_id) else _new_request_id()
        )
        method = scope["method"]
        if method == "HEAD":
            # HEAD is answered as GET without the body (RFC 9110 9.3.2): same status and headers.
            scope["method"] = "GET"
        state = scope.setdefault("state", {})
        state["client_ip"] = client_ip
        state["request_id"] = request_id
        # When the request arrived (the web pages report their time from it).
        state["started"] = started
        https = scope.get("scheme") == "https"
        status = 500
        token = request_id_var.set(request_id)

        async def send_with_headers(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = _with_edge_headers(list(message.get("headers", ())), request_id, https)
                if not body.done and not await body.drain():
                    headers.append((b"connection", b"close"))
                # The rate limiter's headers, on every response it let through.
                message["headers"] = headers + state.get(HEADERS_STATE, [])
            elif method == "HEAD" and message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            await self.app(scope, body.receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or UNMATCHED_ROUTE
            metrics.record_request(method, route, status, elapsed)
            key = state.get(KEY_STATE)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    '%s "%s %s" %s %.1fms',
                    client_ip,
                    method,
                    scope["path"],
                    status,
                    elapsed * 1000,
                    extra={
                        "client_ip": client_ip,
                        "method": method,
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        # Who acted, by token id; never the secret.
                        "key_id": key.key_id if isinstance(key, Principal) else None,
                    },
                )
            request_id_var.reset(token)


def _bounded_receive(receive: Any) -> Any:
    """``receive`` that answers 408 when the client pauses longer than the read timeout
    while sending its body; once the body is complete, it waits as long as asked."""
    complete = False

    async def bounded() -> Any:
        nonlocal complete
        if complete:
            return await receive()
        try:
            async with asyncio.timeout(REQUEST_READ_TIMEOUT_SECONDS):
                message = await receive()
        except TimeoutError:
            raise HTTPException(
                status_code=408,
                detail=f"The request body did not arrive: the client sent nothing for "
                f"{REQUEST_READ_TIMEOUT_SECONDS:g} seconds.",
            ) from None
        if message["type"] != "http.request" or not message.get("more_body"):
            complete = True
        return message

    return bounded


def _with_edge_headers(
    headers: list[tuple[bytes, bytes]], request_id: str, https: bool
) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
    extra = [pair for pair in SECURITY_HEADERS if pair[0] not in present]
    if b"content-security-policy" not in present:
        html = content_type.startswith(b"text/html")
        extra.append((b"content-security-policy", CSP_HTML if html else CSP_API))
    if https and b"strict-transport-security" not in present:
        extra.append((b"strict-transport-security", HSTS))
    if b"x-request-id" not in present:
        extra.append((b"x-request-id", request_id.encode("ascii")))
    return headers + extra


def cors_config(settings: Settings) -> CORSConfig | None:
    """CORS for the origins in ``FOSS_CORS_ORIGINS`` (comma-separated); None (off) by default."""
    origins = [o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()]
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Content-Type", "X-API-Key", "X-Request-ID"],
        expose_headers=[
            "Location",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "RateLimit-Policy",
            "X-Request-ID",
        ],
        allow_credentials=False,
        max_age=600,
    )


class ServedApp:
    """The ASGI application a server runs: the HTTP edge wrapped around the Litestar app.

    Plain ASGI middleware around the framework's application object, outermost
    first: the edge (id, client address, headers, log, metrics), the rate limits
    (unless turned off; ``/api/`` only), the approved-only index
    (:mod:`foss_registry.api.index`), the fast reads
    (:mod:`foss_registry.api.fast_reads`), then the Litestar app itself
    (its CORS, error handling, routing). ``litestar`` is that app; ``state`` its
    state (``state.ctx`` holds what the handlers share).
    """

    def __init__(self, litestar: Litestar, settings: Settings) -> None:
        self.litestar = litestar
        handler: Any = litestar
        ctx = litestar.state.ctx
        if ctx.record_cache is not None:
            handler = FastReads(
                handler,
                ctx.record_cache,
                SQLiteThreadReaders(str(ctx.engine.url.database)),
                int(ctx.limiter.total_tokens),
                cors=litestar.cors_config is not None,
            )
            litestar.state.fast_reads = handler
        elif ctx.postgres_records is not None:
            handler = FastReads(
                handler,
                ctx.postgres_records,
                None,
                int(ctx.limiter.total_tokens),
                cors=litestar.cors_config is not None,
                list_reads=ctx.postgres_records,
            )
        # The approved-only index answers /simple/ and /npm/ itself (not rate limited: /api/ only).
        handler = PackageIndex(handler, ctx)
        litestar.state.package_index = handler
        if settings.rate_limits_enabled:
            handler = RateLimitMiddleware(handler, RateLimiter(settings), litestar)
        self._handler = EdgeMiddleware(handler, parse_trusted_proxies(settings.trusted_proxies))
        self._first_request: Callable[[], None] | None = None

    @property
    def state(self) -> Any:
        """The Litestar app's state."""
        return self.litestar.state

    def at_first_request(self, action: Callable[[], None]) -> None:
        """Run ``action`` once, on the event loop, before the first request is served."""
        self._first_request = action

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve one ASGI connection (lifespan events go through to Litestar)."""
        if self._first_request is not None and scope["type"] != "lifespan":
            action, self._first_request = self._first_request, None
            action()
        await self._handler(scope, receive, send)
