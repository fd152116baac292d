"""Rate limits on ``/api/``: per client IP, and per API key when a valid one is sent.

Counting is done with the ``limits`` library's fixed windows (a window opens
with a client's first request; 100 per minute refuses the 101st request in
that minute), in this process's memory by default or in Redis when
``FOSS_REDIS_URL`` is set, so that every server process shares one count.

Every ``/api/`` request counts against its client IP (see
:mod:`foss_registry.api.middleware` for how the IP is found); a request
carrying a valid key also counts against the key, keyed by the token's id,
never its secret. An invalid key is ignored here (public reads stay public;
routes that need a key refuse it in their role guard, api/roles.py). Either
limit exhausted gives 429 with ``Retry-After``; every ``/api/`` response
carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` for
the limit closest to running out.

Looking a key up is a read by hash that writes nothing (no ``last_used_at``),
so counting a key on a GET adds no database write.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage

from foss_registry.api.errors import RATE_LIMITED_STATE
from foss_registry.api.roles import lookup_key
from foss_registry.auth.service import Principal
from foss_registry.config import Settings
from foss_registry.errors import DomainError

log = logging.getLogger("foss_registry.api.ratelimit")

API_PREFIX = "/api/"
#: Where the ``RateLimit-*`` headers of a request let through are left for the HTTP edge.
HEADERS_STATE = "foss_rate_limit_headers"
_EXEMPT_METHODS = frozenset({"OPTIONS"})
# Storage failures are logged at most this often, not once per request.
_STORAGE_WARNING_INTERVAL = 30.0
# Windows remembered per process before the expired ones are dropped.
_MAX_KNOWN_WINDOWS = 10_000


def storage_for(redis_url: str | None, prefix: str = "foss-registry") -> Storage:
    """Return the counters' storage: Redis when a URL is given, else this process's memory."""
    if not redis_url:
        return MemoryStorage()
    uri = redis_url if redis_url.startswith("async+") else f"async+{redis_url}"
    # redis-py (a dependency already) rather than the library's default client, coredis.
    return RedisStorage(uri, implementation="redispy", wrap_exceptions=True, key_prefix=prefix)


class StorageCounter:
    """Fixed-window counting through a ``limits`` storage's public ``incr`` and ``get_expiry``.

    One increment returns the window's count, as ``FixedWindowRateLimiter.hit``
    counts. An increment that returns exactly its own amount opened the window,
    which then ends ``expiry`` seconds on; otherwise the end is the one already
    seen, and the storage is asked (``get_expiry``) only when this process has
    not seen it. In memory the storage is always asked: it is a dictionary read.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._remote = isinstance(storage, RedisStorage)
        # When each key's current window ends (epoch seconds), as last seen (Redis only).
        self._window_ends: dict[str, float] = {}

    async def incr(self, key: str, expiry: int, amount: int = 1) -> tuple[int, float]:
        """Add ``amount`` to ``key``'s count; return the count and when the window ends (epoch)."""
        now = time.time()
        count = int(await self.storage.incr(key, expiry, amount=amount))
        if not self._remote:
            return count, await self.storage.get_expiry(key)
        if count == amount:  # this increment opened a new window
            window_end = now + expiry
        else:
            window_end = self._window_ends.get(key, 0.0)
            if window_end <= now:
                window_end = await self.storage.get_expiry(key)
        self._window_ends[key] = window_end
        if len(self._window_ends) > _MAX_KNOWN_WINDOWS:
            self._window_ends = {k: v for k, v in self._window_ends.items() if v > now}
        return count, window_end


@dataclass(frozen=True, slots=True)
class LimitState:
    """Where one limit stands after counting a request."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    window_seconds: int
    name: str


@dataclass(slots=True)
class _Reservation:
    """Permits this process took from a shared count ahead of use (Redis only)."""

    left: int
    count: int
    window_end: float
    #: Permits the last increment took.
    block: int = 0
    #: The increment under way that tops ``left`` up, if any.
    refill: asyncio.Task[None] | None = None


class RateLimiter:
    """The deployment's two limits (per IP, per key) over one storage, in fixed windows.

    With Redis, a request far below its limit (more than ``2 * RESERVE_FRACTION``
    left) takes ``1/RESERVE_FRACTION`` of what is left, at most ``RESERVE_MAX``,
    in one increment, and the next requests of this process use those permits
    without asking Redis again. When half a block is used, one increment tops
    it up in the background while the rest are used, so no request waits for
    Redis in the steady state (and concurrent requests never each send their
    own; under load the answer takes a few milliseconds to come back through a
    busy event loop, hence blocks of up to 512). The shared count therefore
    runs ahead of real use by what processes hold: a client may be refused up
    to 2/64 of its limit early for each other process it used, never admitted
    beyond it, and with fewer than 128 left (always, for the default 100 per
    minute) every request is counted one by one, exactly.
    """

    RESERVE_FRACTION = 64
    RESERVE_MAX = 512

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.per_ip: RateLimitItem = parse(settings.rate_limit_per_ip)
        self.per_key: RateLimitItem = parse(settings.rate_limit_per_key)
        self.storage = storage or storage_for(settings.redis_url, settings.rate_limit_prefix)
        self.shared = isinstance(self.storage, RedisStorage)
        self.counter = StorageCounter(self.storage)
        self._reserved: dict[str, _Reservation] = {}
        self._refills: set[asyncio.Task[None]] = set()
        self._keys: dict[tuple[str, str], str] = {}
        self._last_warning = 0.0

    def _key(self, item: RateLimitItem, name: str, identity: str) -> str:
        """The storage key ``limits``' strategies use for this item and identity (memoised)."""
        key = self._keys.get((name, identity))
        if key is None:
            if len(self._keys) > _MAX_KNOWN_WINDOWS:
                self._keys.clear()
            key = self._keys[(name, identity)] = item.key_for(name, identity)
        return key

    def take_now(
        self, item: RateLimitItem, name: str, identity: str
    ) -> list[tuple[bytes, bytes]] | None:
        """Take a permit already held, without waiting; its ``RateLimit-*`` headers, or None.

        The common case of a busy process far below its limit, kept cheap: no
        coroutine, no state object. None means :meth:`count` must decide.
        """
        key = self._key(item, name, identity)
        held = self._reserved.get(key) if self.shared else None
        if held is None or held.left <= 0:
            return None
        now = time.time()
        if held.window_end <= now:
            return None
        held.left -= 1
        if held.left < held.block // 2 and held.refill is None:
            self._start_refill(item, key, held, item.amount - held.count)
        window = item.get_expiry()
        return _limit_headers(
            item.amount,
            window,
            remaining=max(0, item.amount - held.count + held.left),
            reset=_reset_seconds(window, held.window_end, now),
        )

    async def count(self, item: RateLimitItem, name: str, identity: str) -> LimitState | None:
        """Count one request against ``identity``; None when the storage cannot be reached.

        A storage outage lets requests through (logged) rather than refusing
        every request of the deployment.
        """
        key = self._key(item, name, identity)
        if self.shared:
            held = await self._take_held(item, key)
            if held is not None:
                # Shown as used: the shared count less what this process still holds.
                used = held.count - held.left
                return self._state(item, name, allowed=True, count=used, window_end=held.window_end)
        # Near the limit, or counting in memory: this request alone, exactly.
        try:
            count, window_end = await self.counter.incr(key, item.get_expiry(), 1)
        except Exception as exc:
            self._warn(exc)
            return None
        if self.shared:
            held = self._reserved.get(key)
            if held is None or held.window_end <= time.time():
                self._reserved[key] = _Reservation(0, count, window_end)
            elif count > held.count:
                held.count, held.window_end = count, window_end
        return self._state(
            item, name, allowed=count <= item.amount, count=count, window_end=window_end
        )

    async def _take_held(self, item: RateLimitItem, key: str) -> _Reservation | None:
        """Take one of the permits this process holds for ``key``, topping them up.

        Returns the reservation the permit came from, or None when the request
        must be counted alone (the limit is near, or Redis does not answer).
        One increment per key is under way at a time: requests finding no
        permit wait for it rather than each sending their own.
        """
        for _ in range(4):
            now = time.time()
            held = self._reserved.get(key)
            if held is not None and held.window_end <= now:
                held.left = 0  # permits of an ended window are void
            if held is not None and held.left > 0:
                held.left -= 1
                if held.left < held.block // 2 and held.refill is None:
                    self._start_refill(item, key, held, item.amount - held.count)
                return held
            if held is None or held.refill is None:
                if held is None or held.window_end <= now:
                    # A new window: its end is known once Redis answers.
                    held = _Reservation(0, 0, math.inf)
                    self._remember(key, held, now)
                if not self._start_refill(item, key, held, item.amount - held.count):
                    return None
            assert held.refill is not None
            await asyncio.shield(held.refill)
        return None

    def _remember(self, key: str, held: _Reservation, now: float) -> None:
        self._reserved[key] = held
        if len(self._reserved) > _MAX_KNOWN_WINDOWS:
            self._reserved = {k: r for k, r in self._reserved.items() if r.window_end > now}
            self._reserved[key] = held

    def _start_refill(self, item: RateLimitItem, key: str, held: _Reservation, left: int) -> bool:
        """Top ``held`` up in the background; False when the limit is near (count exactly)."""
        amount = min(self.RESERVE_MAX, left // self.RESERVE_FRACTION)
        if amount < 2:
            return False
        task = asyncio.ensure_future(self._refill(item, key, held, amount))
        held.refill = task
        self._refills.add(task)
        task.add_done_callback(self._refills.discard)
        return True

    async def _refill(self, item: RateLimitItem, key: str, held: _Reservation, amount: int) -> None:
        try:
            count, window_end = await self.counter.incr(key, item.get_expiry(), amount)
        except Exception as exc:
            self._warn(exc)
            return
        finally:
            held.refill = None
        first = count - amount + 1
        if count == amount or held.window_end <= time.time():
            held.left = 0  # this increment opened a new window: the old permits are void
        held.left += max(0, min(count, item.amount) - first + 1)
        held.block = amount
        held.count = count
        held.window_end = window_end

    @staticmethod
    def _state(
        item: RateLimitItem, name: str, *, allowed: bool, count: int, window_end: float
    ) -> LimitState:
        window = item.get_expiry()
        return LimitState(
            allowed=allowed,
            limit=item.amount,
            remaining=max(0, item.amount - count),
            reset_seconds=_reset_seconds(window, window_end, time.time()),
            window_seconds=window,
            name=name,
        )

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning > _STORAGE_WARNING_INTERVAL:
            self._last_warning = now
            log.warning(
                "rate-limit storage unavailable (%s); requests are not limited meanwhile",
                type(exc).__name__,
            )


def rate_limit_headers(state: LimitState) -> list[tuple[bytes, bytes]]:
    """The ``RateLimit-*`` headers describing one limit."""
    return _limit_headers(
        state.limit, state.window_seconds, remaining=state.remaining, reset=state.reset_seconds
    )


def _limit_headers(
    limit: int, window: int, *, remaining: int, reset: int
) -> list[tuple[bytes, bytes]]:
    limit_header, policy_header = _fixed_headers(limit, window)
    return [
        limit_header,
        (b"ratelimit-remaining", str(remaining).encode()),
        (b"ratelimit-reset", str(reset).encode()),
        policy_header,
    ]


@lru_cache(maxsize=16)
def _fixed_headers(limit: int, window: int) -> tuple[tuple[bytes, bytes], tuple[bytes, bytes]]:
    """The headers that are the same on every response of one limit."""
    return (b"ratelimit-limit", str(limit).encode()), (
        b"ratelimit-policy",
        f"{limit};w={window}".encode(),
    )


def _reset_seconds(window: int, window_end: float, now: float) -> int:
    """Whole seconds until the window ends (at least 1, at most the window)."""
    return min(window, max(1, math.ceil(window_end - now)))



class RateLimitedError(DomainError):
    """A limit ran out (HTTP 429): answered by the framework, with ``Retry-After``."""

    status = 429
    code = "rate_limited"
    title = "Too Many Requests"

    def __init__(self, state: LimitState, headers: list[tuple[bytes, bytes]]) -> None:
        retry_after = max(1, state.reset_seconds)
        what = "client address" if state.name == "ip" else "API key"
        super().__init__(
            f"Too many requests from this {what}: the limit is {state.limit} per "
            f"{_window_words(state.window_seconds)}. Retry after {retry_after} seconds.",
        )
        self.headers = {"Retry-After": str(retry_after)} | {
            name.decode(): value.decode() for name, value in headers
        }


#: Where a refused request's :class:`RateLimitedError` waits for the framework to raise it.
REFUSED_STATE = RATE_LIMITED_STATE


def refusal(scope: Any) -> RateLimitedError | None:
    """The refusal the rate limiter left for this request, if any."""
    refused: RateLimitedError | None = scope.get("state", {}).get(REFUSED_STATE)
    return refused


def raise_refusal(app: Any) -> Any:
    """Litestar middleware: raise the refusal of a rate-limited request before its handler.

    The refusal is then answered like every error (problem details, CORS headers
    by Litestar's own CORS layer); a path no route matches answers it from the
    404/405 handler (``api.errors``), which runs before any middleware.
    """

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        refused = refusal(scope)
        if refused is not None:
            raise refused
        await app(scope, receive, send)

    return middleware


class RateLimitMiddleware:
    """ASGI middleware counting ``/api/`` requests and refusing those over a limit.

    A refused request goes straight to the Litestar app (never to the fast
    reads), which answers the 429 (:func:`raise_refusal`).
    """

    def __init__(self, app: Any, limiter: RateLimiter, litestar: Any) -> None:
        self.app = app
        self.limiter = limiter
        self.litestar = litestar

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Count the request, answer 429 when a limit is exhausted, else pass on its headers."""
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(API_PREFIX)
            or scope["method"] in _EXEMPT_METHODS
        ):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        client_ip = state.get("client_ip") or (scope.get("client") or ("unknown",))[0]
        has_key = any(name == b"x-api-key" for name, _ in scope.get("headers", ()))
        if not has_key:
            # Only the address counts: a permit this process holds settles it.
            held = self.limiter.take_now(self.limiter.per_ip, "ip", client_ip)
            if held is not None:
                state[HEADERS_STATE] = held
                await self.app(scope, receive, send)
                return
        states: list[LimitState] = []
        ip_state = await self.limiter.count(self.limiter.per_ip, "ip", client_ip)
        if ip_state is not None:
            states.append(ip_state)
        if has_key and (ip_state is None or ip_state.allowed):
            principal = await lookup_key(self.litestar, scope)
            if isinstance(principal, Principal):
                key_state = await self.limiter.count(self.limiter.per_key, "key", principal.key_id)
                if key_state is not None:
                    states.append(key_state)
        if not states:
            await self.app(scope, receive, send)
            return
        refused = [s for s in states if not s.allowed]
        shown = refused[0] if refused else min(states, key=lambda s: s.remaining / s.limit)
        headers = rate_limit_headers(shown)
        if refused:
            from foss_registry import metrics

            metrics.RATE_LIMITED.labels(shown.name).inc()
            state[REFUSED_STATE] = RateLimitedError(shown, headers)
            await self.litestar(scope, receive, send)
            return
        # The HTTP edge, which wraps this middleware, adds them to the response.
        state[HEADERS_STATE] = headers
        await self.app(scope, receive, send)


def _window_words(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"
