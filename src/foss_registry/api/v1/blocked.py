"""``GET /index/blocked`` (admin): index requests refused, or in audit mode served and recorded."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from foss_registry.api.deps import context, run_db
from foss_registry.api.params import Limit, Offset
from foss_registry.api.roles import requires
from foss_registry.db import read_connection
from foss_registry.index import gate
from foss_registry.index.records import BlockedList


@get(
    "/index/blocked",
    summary="Blocked index requests (admin)",
    tags=["admin"],
    **requires("admin"),
    description=(
        "Requests of pip, uv or npm through the approved-only index for a file of a version "
        "that is not approved: refused in enforce mode, served and recorded in audit mode "
        "(FOSS_INDEX_MODE). Newest first."
    ),
)
async def blocked(
    request: Request[Any, Any, Any],
    limit: Limit = 100,
    offset: Offset = 0,
) -> BlockedList:
    """The recorded requests."""
    ctx = context(request)

    def work() -> BlockedList:
        with read_connection(ctx.engine) as conn:
            return gate.list_blocked(conn, limit=limit, offset=offset)

    return await run_db(request, work)
