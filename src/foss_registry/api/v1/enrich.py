"""``POST /enrich`` (admin): ask the upstream registry again about one version or all of a name."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from sqlalchemy import Connection

from foss_registry.api.deps import run_write
from foss_registry.api.roles import requires
from foss_registry.api.v1.schemas import EnrichRequest
from foss_registry.enrichment import service as enrichment
from foss_registry.enrichment.records import EnrichResult


@post(
    "/enrich",
    summary="Enrich again from the upstream registry (admin)",
    tags=["admin"],
    status_code=202,
    description=(
        "Queues the enrichment of the named version, or of every version of the name "
        "when `version` is left out; names may hold `/`. The results show as `upstream` "
        "and `signals` in `GET /packages/{name}` once the job has run."
    ),
    **requires("admin", body=EnrichRequest),
)
async def enrich(
    request: Request[Any, Any, Any], payload: NamedDependency[EnrichRequest]
) -> Response[EnrichResult]:
    """Queue enrichments; 202 with the versions queued."""
    body = payload

    def work(conn: Connection) -> EnrichResult:
        return enrichment.enrich_again(conn, body.ecosystem, body.name, body.version)

    return Response(await run_write(request, work), status_code=202)
