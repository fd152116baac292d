"""``/reviews``: decide on a version, and read the review queue and history."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter

from foss_registry.api.deps import context, run_db
from foss_registry.api.params import Limit, Offset
from foss_registry.api.roles import Actor, requires
from foss_registry.api.v1.schemas import ReviewDecision
from foss_registry.db import read_connection, write_transaction
from foss_registry.reviews import service as reviews
from foss_registry.reviews.records import ReviewList, ReviewResult


@post(
    "/reviews",
    summary="Approve or reject a version",
    tags=["reviews"],
    status_code=201,
    description="Needs a reviewer key. `reject` needs a comment. Every decision is kept. "
    "Approving a version with a finding at high or above, or whose scan ended in error, "
    'needs `"acknowledge_findings": true` (409 `findings_not_acknowledged` listing them '
    "otherwise); approving while the scan is pending or not_scanned answers `warnings`.",
    **requires("reviewer", body=ReviewDecision),
)
async def decide(
    request: Request[Any, Any, Any], payload: NamedDependency[ReviewDecision], actor: Actor
) -> Response[ReviewResult]:
    """Record a reviewer's decision; the acting token is the reviewer."""
    ctx = context(request)
    body = payload

    def work() -> ReviewResult:
        with write_transaction(ctx.engine) as conn:
            return reviews.decision_result(
                reviews.decide(
                    conn,
                    ecosystem=body.ecosystem,
                    name=body.name,
                    version=body.version,
                    decision=body.decision,
                    by=actor.name,
                    comment=body.comment,
                    acknowledge_findings=body.acknowledge_findings,
                )
            )

    return Response(await run_db(request, work), status_code=201)


@get("/reviews", summary="The review queue and decision history", tags=["reviews"])
async def list_reviews(
    request: Request[Any, Any, Any],
    status: Annotated[str | None, Parameter(max_length=32)] = None,
    ecosystem: Annotated[str | None, Parameter(max_length=32)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ReviewList:
    """Versions awaiting a decision and past decisions, newest first."""
    engine = context(request).engine

    def work() -> ReviewList:
        with read_connection(engine) as conn:
            return reviews.list_reviews(
                conn, status=status, ecosystem=ecosystem, limit=limit, offset=offset
            )

    return await run_db(request, work)
