"""Admin reads of the background machinery: ``/vulndb/status`` and ``/jobs/failed``."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from foss_registry.api.deps import context, run_db
from foss_registry.api.params import Limit, Offset
from foss_registry.api.roles import requires
from foss_registry.db import read_connection
from foss_registry.jobs import queue
from foss_registry.jobs.records import FailedJobList
from foss_registry.vulns import service as vulndb
from foss_registry.vulns.records import VulnDbStatus


@get(
    "/vulndb/status",
    summary="Vulnerability database status (admin)",
    tags=["admin"],
    **requires("admin"),
    description=(
        "Records per ecosystem and source (PYSEC, GHSA, MAL...), withdrawn records, the "
        "newest `modified` date, its age in days, and whether it is stale "
        "(older than FOSS_VULNDB_STALE_DAYS)."
    ),
)
async def vulndb_status(request: Request[Any, Any, Any]) -> VulnDbStatus:
    """What the vulnerability database holds and how fresh it is."""
    ctx = context(request)

    def work() -> VulnDbStatus:
        with read_connection(ctx.engine) as conn:
            return vulndb.status(conn, stale_days=ctx.settings.vulndb_stale_days)

    return await run_db(request, work)


@get(
    "/jobs/failed",
    summary="Failed background jobs (admin)",
    tags=["admin"],
    **requires("admin"),
    description="Jobs parked after their last attempt failed (scans, re-scans), newest first.",
)
async def failed_jobs(
    request: Request[Any, Any, Any],
    limit: Limit = 100,
    offset: Offset = 0,
) -> FailedJobList:
    """Parked jobs with their last error."""
    ctx = context(request)

    def work() -> FailedJobList:
        with read_connection(ctx.engine) as conn:
            return queue.failed_jobs(conn, limit=limit, offset=offset)

    return await run_db(request, work)
