"""The dashboard's figures, kept for a short while in each process.

Computing them reads every version (a good part of a second at a million), so
a page view shows the last figures computed and asks for fresh ones in the
background once they are older than twenty times what computing them took
(at least 1 s, at most :data:`MAX_AGE`): a small registry's dashboard is
current within a second or two, a million versions' within half a minute, and
the work stays a small share of one core. A page never waits except for the
very first one of a process. The page says when they were computed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar import Request

from foss_registry.api.deps import context, run_db
from foss_registry.db import read_connection
from foss_registry.overview import service as overview

MAX_AGE = 60.0
MIN_AGE = 1.0


class FiguresCache:
    """The newest figures of this process and when they were computed (monotonic)."""

    def __init__(self) -> None:
        self.value: overview.Figures | None = None
        self.at = 0.0
        self.took = 0.0
        self.refresh: asyncio.Task[None] | None = None

    async def get(self, request: Request[Any, Any, Any]) -> overview.Figures:
        """Return recent figures, refreshing them in the background once they are old."""
        if self.value is None:
            await self._compute(request)
        elif time.monotonic() - self.at > self.max_age and self.refresh is None:
            self.refresh = asyncio.get_running_loop().create_task(self._compute(request))
        assert self.value is not None
        return self.value

    @property
    def max_age(self) -> float:
        """How old the figures may get before a page view asks for fresh ones."""
        return min(MAX_AGE, max(MIN_AGE, 20 * self.took))

    async def _compute(self, request: Request[Any, Any, Any]) -> None:
        ctx = context(request)

        def work() -> overview.Figures:
            with read_connection(ctx.engine) as conn:
                return overview.figures(conn, stale_days=ctx.settings.vulndb_stale_days)

        started = time.monotonic()
        try:
            self.value = await run_db(request, work)
            self.at = time.monotonic()
            self.took = self.at - started
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
