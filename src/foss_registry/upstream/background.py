"""Upstream reads for synchronous callers (the job worker, commands): one event loop per thread.

A job runs in a worker thread with no event loop. Rather than start a loop and
a client per job (a new TLS context and new connections each time), each
thread keeps its own event loop with a long-lived :class:`UpstreamHttp` and
runs the coroutines of its jobs on it, without handing them to another thread.
The response cache (validators and bodies) is shared by every thread of the
process, so a second enrichment revalidates whichever thread runs it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from foss_registry.upstream.http import HttpLimits, ResponseCache, UpstreamHttp

T = TypeVar("T")


class LoopClient:
    """An event loop owned by one thread, with one :class:`UpstreamHttp` on it."""

    def __init__(self, limits: HttpLimits, cache: ResponseCache) -> None:
        self.loop = asyncio.new_event_loop()
        self.http: UpstreamHttp = self.loop.run_until_complete(self._make(limits, cache))

    @staticmethod
    async def _make(limits: HttpLimits, cache: ResponseCache) -> UpstreamHttp:
        return UpstreamHttp(limits, cache=cache)

    def call(
        self, factory: Callable[[], Coroutine[Any, Any, T]], timeout: float | None = None
    ) -> T:
        """Run ``factory()`` on this thread's loop; ``TimeoutError`` past ``timeout`` seconds."""

        async def bounded() -> T:
            async with asyncio.timeout(timeout):
                return await factory()

        return self.loop.run_until_complete(bounded())

    def close(self) -> None:
        """Close the client and the loop."""
        if not self.loop.is_closed():
            self.loop.run_until_complete(self.http.aclose())
            self.loop.close()


_LOCK = threading.Lock()
_CACHES: dict[str, ResponseCache] = {}
_LOCAL = threading.local()


def shared(limits: HttpLimits, cache_dir: str | None = None) -> LoopClient:
    """This thread's client for these limits, over the process's response cache."""
    key = (limits, cache_dir or "")
    clients: dict[tuple[HttpLimits, str], LoopClient] = getattr(_LOCAL, "clients", None) or {}
    _LOCAL.clients = clients
    client = clients.get(key)
    if client is None:
        with _LOCK:
            cache = _CACHES.get(key[1])
            if cache is None:
                cache = ResponseCache(directory=Path(cache_dir) if cache_dir else None)
                _CACHES[key[1]] = cache
        client = clients[key] = LoopClient(limits, cache)
    return client
