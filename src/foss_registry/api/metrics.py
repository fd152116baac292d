"""``GET /metrics``: Prometheus exposition of this deployment (no key, not rate limited)."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, get
from sqlalchemy import Engine

from foss_registry import metrics
from foss_registry.api.deps import context, run_db
from foss_registry.jobs import queue
from foss_registry.scans import service as scans
from foss_registry.vulns import service as vulndb

log = logging.getLogger("foss_registry.metrics")


def database_gauges(engine: Engine) -> metrics.DatabaseGauges:
    """Read the gauges' numbers from the job queue and the vulnerability database."""
    try:
        with engine.connect() as conn:
            stats = queue.stats(conn)
            ages = vulndb.data_ages(conn)
            in_error = scans.count_in_error(conn)
    except Exception as exc:  # a scrape must answer even when the database does not
        log.warning("metrics: database query failed: %s", type(exc).__name__)
        return metrics.DatabaseGauges()
    return metrics.DatabaseGauges(
        queue_counts=stats["counts"],
        oldest_queued_age_seconds=stats["oldest_queued_age_seconds"],
        vulndb_ages=ages,
        scans_in_error=in_error,
        up=True,
    )


def _render(engine: Engine) -> bytes:
    return metrics.render(database_gauges(engine))


@get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Counters and histograms of every server process, and gauges read from the database."""
    engine = context(request).engine
    body = await run_db(request, _render, engine)
    return Response(body, media_type=metrics.CONTENT_TYPE)
