"""The dashboard's figures, kept for a short while in each process.

Computing them reads every version (a good part of a second at a million), so
a page view shows the last figures computed within :data:`MAX_AGE` seconds and
asks for fresh ones in the background when they are older: a page never waits
except for the very first one of a process. The page says when they were
computed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar import Request

from foss_registry.api.deps import context, run_db
from foss_registry.db import read_connection
from foss_registry.overview import service as overview

MAX_AGE = 15.0


class FiguresCache:
    """The newest figures of this process and when they were computed (monotonic)."""

    def __init__(self) -> None:
        self.value: overview.Figures | None = None
        self.at = 0.0
        self.refresh: asyncio.Task[None] | None = None

    async def get(self, request: Request[Any, Any, Any]) -> overview.Figures:
        """Return recent figures, refreshing them in the background once they are old."""
        if self.value is None:
            await self._compute(request)
        elif time.monotonic() - self.at > MAX_AGE and self.refresh is None:
            self.refresh = asyncio.get_running_loop().create_task(self._compute(request))
        assert self.value is not None
        return self.value

    async def _compute(self, request: Request[Any, Any, Any]) -> None:
        ctx = context(request)

        def work() -> overview.Figures:
            with read_connection(ctx.engine) as conn:
                return overview.figures(conn, stale_days=ctx.settings.vulndb_stale_days)

        try:
            self.value = await run_db(request, work)
            self.at = time.monotonic()
        finally:
            self.refresh = None


def cache_of(request: Request[Any, Any, Any]) -> FiguresCache:
    """The process's figures cache (one per application)."""
    state = request.app.state
    cache: FiguresCache | None = getattr(state, "web_figures", None)
    if cache is None:
        cache = FiguresCache()
        state.web_figures = cache
    return cache
