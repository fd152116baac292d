"""``GET /metrics``: Prometheus exposition of this deployment (no key, not rate limited)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from foss_registry import metrics
from foss_registry.api.deps import context, run_db


@get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Counters and histograms of every server process, and gauges read from the database."""
    engine = context(request).engine
    body = await run_db(request, metrics.render, engine)
    return Response(body, media_type=metrics.CONTENT_TYPE)
