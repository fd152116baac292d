"""``/security/scans/{name}``: the newest scan of the selected version."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import FromPath, Parameter

from foss_registry.api.deps import context, run_db
from foss_registry.api.params import Limit, Offset
from foss_registry.db import read_connection
from foss_registry.security import service as security
from foss_registry.security.records import ScanReport


@get(
    "/security/scans/{name:path}",
    summary="Security scan of a package version",
    tags=["security"],
    description=(
        "Status is `pending` while queued, then `passed`, `failed`, `error`, or "
        "`not_scanned` with a reason; `error` also when the scan job was given up after "
        "its last attempt (`attempts` says how many). `database` gives the age of the "
        "vulnerability data "
        "behind the result (null when none was used). `history` lists the version's scans, "
        "oldest first, with what each found new (`changes`), a page at a time "
        "(`history_limit`, `history_offset`); `history_total` counts them all."
    ),
)
async def get_scan(
    request: Request[Any, Any, Any],
    name: FromPath[str],
    ecosystem: Annotated[str | None, Parameter(max_length=32)] = None,
    version: Annotated[str | None, Parameter(max_length=128)] = None,
    history_limit: Limit = 100,
    history_offset: Offset = 0,
) -> ScanReport:
    """Return the scan report, selecting the version like ``GET /packages/{name}``."""
    ctx = context(request)
    name = name.lstrip("/")

    def work() -> ScanReport:
        with read_connection(ctx.engine) as conn:
            return security.get_scan(
                conn,
                name,
                ecosystem=ecosystem,
                version=version,
                stale_days=ctx.settings.vulndb_stale_days,
                history_limit=history_limit,
                history_offset=history_offset,
            )

    return await run_db(request, work)
