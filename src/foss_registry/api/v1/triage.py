"""``/triage`` and ``/export/openvex``: decisions about advisories (reviewers write, keys read)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, delete, get, post
from litestar.params import Parameter
from msgspec import Struct

from foss_registry.api.deps import (
    acting_principal,
    context,
    decode_body,
    require_key_present,
    run_db,
)
from foss_registry.api.params import RecordId, record_id
from foss_registry.db import write_transaction
from foss_registry.policy import service as policy
from foss_registry.triage import service as triage


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
    security=[{"apiKey": []}],
    description=(
        "`advisory` by id or any alias, for one package and a `range` (the ecosystem's "
        "syntax) or every version (no range). `state`: `not_affected` (with an OpenVEX "
        "`justification`), `accepted_risk` or `false_positive`. While live, the findings it "
        "names stay in the scans with their `triage` and stop counting in the scan's status "
        "and severity, the policy and `/check`."
    ),
)
async def create_triage(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Create a decision; pending versions it touches are judged again by the policy."""
    ctx = context(request)
    key = require_key_present(ctx, request)
    body = await decode_body(request, TriageCreate)

    def work() -> dict[str, Any]:
        with write_transaction(ctx.engine) as conn:
            principal = acting_principal(ctx, conn, key, "reviewer")
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
                by=principal.name,
            )
            policy.reevaluate_versions(conn, triage.pending_touched(conn, created["id"]))
            return created

    return Response(await run_db(request, work), status_code=201)


@get(
    "/triage",
    summary="List triage decisions (any key)",
    tags=["standing decisions"],
    security=[{"apiKey": []}],
)
async def list_triage(
    request: Request[Any, Any, Any],
    include_ended: Annotated[
        bool, Parameter(description="Also list ended and expired ones.")
    ] = False,
) -> dict[str, Any]:
    """Live decisions, newest first; ``include_ended=true`` adds ended and expired ones."""
    ctx = context(request)
    key = require_key_present(ctx, request)

    def work() -> dict[str, Any]:
        with write_transaction(ctx.engine) as conn:
            acting_principal(ctx, conn, key, "submitter")
            return {"triage": triage.list_triage(conn, include_ended=include_ended)}

    return await run_db(request, work)


@delete(
    "/triage/{triage_id:str}",
    summary="End a triage decision (reviewer)",
    tags=["standing decisions"],
    status_code=200,
    security=[{"apiKey": []}],
)
async def end_triage(request: Request[Any, Any, Any], triage_id: RecordId) -> dict[str, Any]:
    """End a decision now: its findings count again, approved versions get ``triage_expired``."""
    ctx = context(request)
    key = require_key_present(ctx, request)

    def work() -> dict[str, Any]:
        with write_transaction(ctx.engine) as conn:
            principal = acting_principal(ctx, conn, key, "reviewer")
            return triage.end(conn, record_id("triage_id", triage_id), by=principal.name)

    return await run_db(request, work)


@get(
    "/export/openvex",
    summary="The live triage as an OpenVEX 0.2 document (any key)",
    tags=["standing decisions"],
    security=[{"apiKey": []}],
    media_type="application/json",
)
async def export_openvex(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """OpenVEX statements for every live decision; products are purls."""
    ctx = context(request)
    key = require_key_present(ctx, request)

    def work() -> dict[str, Any]:
        with write_transaction(ctx.engine) as conn:
            acting_principal(ctx, conn, key, "submitter")
            return triage.export_openvex(conn, author="FOSS Registry")

    return Response(
        await run_db(request, work),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="foss-registry.openvex.json"'},
    )
