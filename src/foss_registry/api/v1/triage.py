"""``/triage`` and ``/export/openvex``: decisions about advisories (reviewers write, keys read)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter
from msgspec import Struct

from foss_registry.api.deps import context, run_db
from foss_registry.api.params import RecordId, record_id
from foss_registry.api.roles import Actor, requires
from foss_registry.db import read_connection, write_transaction
from foss_registry.policy import service as policy
from foss_registry.triage import service as triage
from foss_registry.triage.records import TriageDecision


class TriageList(Struct):
    """Answer of ``GET /triage``."""

    triage: list[TriageDecision]


class TriageCreate(Struct, forbid_unknown_fields=True):
    """Body of ``POST /triage``."""

    advisory: str
    ecosystem: str
    name: str
    state: str
    range: str | None = None
    justification: str | None = None
    comment: str | None = None
    expires_at: datetime | None = None


@post(
    "/triage",
    summary="Record a triage decision (reviewer)",
    tags=["standing decisions"],
    status_code=201,
    **requires("reviewer", body=TriageCreate),
    description=(
        "`advisory` by id or any alias, for one package and a `range` (the ecosystem's "
        "syntax) or every version (no range). `state`: `not_affected` (with an OpenVEX "
        "`justification`), `accepted_risk` or `false_positive`. While live, the findings it "
        "names stay in the scans with their `triage` and stop counting in the scan's status "
        "and severity, the policy and `/check`."
    ),
)
async def create_triage(
    request: Request[Any, Any, Any], payload: NamedDependency[TriageCreate], actor: Actor
) -> Response[TriageDecision]:
    """Create a decision; pending versions it touches are judged again by the policy."""
    ctx = context(request)
    body = payload

    def work() -> TriageDecision:
        with write_transaction(ctx.engine) as conn:
            created = triage.create(
                conn,
                advisory=body.advisory,
                ecosystem=body.ecosystem,
                name=body.name,
                range_text=body.range,
                state=body.state,
                justification=body.justification,
                comment=body.comment,
                expires_at=body.expires_at,
                by=actor.name,
            )
            policy.reevaluate_versions(conn, triage.pending_touched(conn, created.id))
            return created

    return Response(await run_db(request, work), status_code=201)


@get(
    "/triage",
    summary="List triage decisions (any key)",
    tags=["standing decisions"],
    **requires("submitter"),
)
async def list_triage(
    request: Request[Any, Any, Any],
    include_ended: Annotated[
        bool, Parameter(description="Also list ended and expired ones.")
    ] = False,
) -> TriageList:
    """Live decisions, newest first; ``include_ended=true`` adds ended and expired ones."""
    ctx = context(request)

    def work() -> TriageList:
        with read_connection(ctx.engine) as conn:
            return TriageList(triage=triage.list_triage(conn, include_ended=include_ended))

    return await run_db(request, work)


@delete(
    "/triage/{triage_id:str}",
    summary="End a triage decision (reviewer)",
    tags=["standing decisions"],
    status_code=200,
    **requires("reviewer"),
)
async def end_triage(
    request: Request[Any, Any, Any], triage_id: RecordId, actor: Actor
) -> TriageDecision:
    """End a decision now: its findings count again, approved versions get ``triage_expired``."""
    ctx = context(request)
    ident = record_id("triage_id", triage_id)

    def work() -> TriageDecision:
        with write_transaction(ctx.engine) as conn:
            return triage.end(conn, ident, by=actor.name)

    return await run_db(request, work)


@get(
    "/export/openvex",
    summary="The live triage as an OpenVEX 0.2 document (any key)",
    tags=["standing decisions"],
    **requires("submitter"),
    media_type="application/json",
)
async def export_openvex(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """OpenVEX statements for every live decision; products are purls."""
    ctx = context(request)

    def work() -> dict[str, Any]:
        with read_connection(ctx.engine) as conn:
            return triage.export_openvex(conn, author="FOSS Registry")

    return Response(
        await run_db(request, work),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="foss-registry.openvex.json"'},
    )
