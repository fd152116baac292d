"""Upstream reads for synchronous callers (the job worker, commands) on one background loop.

A job runs in a worker thread with no event loop. Rather than start a loop and
a client per job (a new TLS context and new connections each time), one daemon
thread per process runs an event loop with a long-lived :class:`UpstreamHttp`
(its connections and its response cache kept between jobs); callers hand it
coroutines and wait for the answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from foss_registry.upstream.http import HttpLimits, ResponseCache, UpstreamHttp

T = TypeVar("T")


class BackgroundHttp:
    """An event loop in a daemon thread with one :class:`UpstreamHttp`."""

    def __init__(self, limits: HttpLimits, cache: ResponseCache) -> None:
        self.limits = limits
        self.cache = cache
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="foss-upstream", daemon=True)
        self._thread.start()
        self._ready.wait()
        self.http: UpstreamHttp = self.call(self._make)

    async def _make(self) -> UpstreamHttp:
        return UpstreamHttp(self.limits, cache=self.cache)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()

    def call(
        self, factory: Callable[[], Coroutine[Any, Any, T]], timeout: float | None = None
    ) -> T:
        """Run ``factory()`` on the loop and wait for its result (or its exception)."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(factory(), self._loop)
        return future.result(timeout)

    def submit(self, factory: Callable[[], Coroutine[Any, Any, T]]) -> Future[T]:
        """Start ``factory()`` on the loop; return a future of its result."""
        return asyncio.run_coroutine_threadsafe(factory(), self._loop)

    def close(self) -> None:
        """Close the client and stop the loop."""
        if not self._loop.is_running():
            return
        try:
            self.call(self.http.aclose, timeout=5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)


_LOCK = threading.Lock()
_SHARED: dict[tuple[HttpLimits, str], BackgroundHttp] = {}


def shared(limits: HttpLimits, cache_dir: str | None = None) -> BackgroundHttp:
    """The process's background client for these limits (one per distinct setting)."""
    from pathlib import Path

    key = (limits, cache_dir or "")
    with _LOCK:
        client = _SHARED.get(key)
        if client is None:
            cache = ResponseCache(directory=Path(cache_dir) if cache_dir else None)
            client = _SHARED[key] = BackgroundHttp(limits, cache)
        return client
