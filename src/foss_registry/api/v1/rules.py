"""``/approval-rules``: range approvals (reviewer or admin create and end; any key reads)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter
from msgspec import Struct

from foss_registry.api.deps import context, run_db
from foss_registry.api.params import RecordId, record_id
from foss_registry.api.roles import Actor, requires
from foss_registry.db import read_connection, write_transaction
from foss_registry.policy import service as policy
from foss_registry.rules import service as rules
from foss_registry.rules.records import ApprovalRule, CreatedRule


class RuleList(Struct):
    """Answer of ``GET /approval-rules``."""

    rules: list[ApprovalRule]


class RuleCreate(Struct, forbid_unknown_fields=True):
    """Body of ``POST /approval-rules``."""

    ecosystem: str
    name: str
    range: str
    comment: str | None = None
    expires_at: datetime | None = None
    apply_to_existing: bool = False


@post(
    "/approval-rules",
    summary="Approve a range of a package's versions (reviewer)",
    tags=["standing decisions"],
    status_code=201,
    **requires("reviewer", body=RuleCreate),
    description=(
        "`range` in the ecosystem's syntax: a PEP 440 specifier set (`>=4.2,<4.3`), an npm "
        "range (`^4.17.0`), a Maven version range (`[1.0,2.0)`) or a Docker tag pattern "
        "(`1.25.*`); shown normalised. A version submitted later inside a live rule is "
        "approved when its scan passed and the policy approves its license; with "
        "`apply_to_existing` the pending versions are looked at once now (`approved` lists "
        "those approved)."
    ),
)
async def create_rule(
    request: Request[Any, Any, Any], payload: NamedDependency[RuleCreate], actor: Actor
) -> Response[CreatedRule]:
    """Create a rule; the acting key's owner is its author."""
    ctx = context(request)
    body = payload

    def work() -> CreatedRule:
        with write_transaction(ctx.engine) as conn:
            rule = rules.create(
                conn,
                ecosystem=body.ecosystem,
                name=body.name,
                range_text=body.range,
                comment=body.comment,
                expires_at=body.expires_at,
                apply_to_existing=body.apply_to_existing,
                by=actor.name,
            )
            approved = (
                policy.apply_rule_to_existing(conn, rule.id) if body.apply_to_existing else []
            )
            return CreatedRule(**msgspec.structs.asdict(rule), approved=len(approved))

    return Response(await run_db(request, work), status_code=201)


@get(
    "/approval-rules",
    summary="List approval rules (any key)",
    tags=["standing decisions"],
    **requires("submitter"),
)
async def list_rules(
    request: Request[Any, Any, Any],
    include_ended: Annotated[
        bool, Parameter(description="Also list ended and expired ones.")
    ] = False,
) -> RuleList:
    """Live rules, newest first; ``include_ended=true`` adds ended and expired ones."""
    ctx = context(request)

    def work() -> RuleList:
        with read_connection(ctx.engine) as conn:
            return RuleList(rules=rules.list_rules(conn, include_ended=include_ended))

    return await run_db(request, work)


@delete(
    "/approval-rules/{rule_id:str}",
    summary="End an approval rule (reviewer)",
    tags=["standing decisions"],
    status_code=200,
    **requires("reviewer"),
)
async def end_rule(
    request: Request[Any, Any, Any], rule_id: RecordId, actor: Actor
) -> ApprovalRule:
    """End a rule now; versions it approved stay approved."""
    ctx = context(request)
    ident = record_id("rule_id", rule_id)

    def work() -> ApprovalRule:
        with write_transaction(ctx.engine) as conn:
            return rules.end(conn, ident, by=actor.name)

    return await run_db(request, work)
