"""``POST /check``: the CI gate's batch lookup of a project's dependencies (public)."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from msgspec import Struct

from foss_registry.api.deps import context, decode_body, run_db
from foss_registry.checks import service as checks
from foss_registry.checks.records import CheckResponse
from foss_registry.db import read_connection
from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.gate import MAX_CHECK_BODY_BYTES, MAX_CHECK_DEPENDENCIES
from foss_registry.triage.openvex import NOT_COUNTING, VexStatement


class CheckDependency(Struct, forbid_unknown_fields=True):
    """One dependency to look up; ``version`` null for an unpinned requirement."""

    name: str
    ecosystem: str
    version: str | None = None


class VexStatementIn(Struct, forbid_unknown_fields=True):
    """A VEX statement whose findings stop counting (``foss check --vex`` sends them)."""

    vulnerability: str
    products: list[str]
    status: str
    aliases: list[str] = []
    justification: str | None = None


class CheckRequest(Struct, forbid_unknown_fields=True):
    """Body of ``POST /check``: up to 5,000 dependencies, and optional VEX statements."""

    dependencies: list[CheckDependency]
    vex: list[VexStatementIn] = []


@post(
    "/check",
    summary="Check a project's dependencies against the registry",
    tags=["check"],
    status_code=200,
    request_max_body_size=MAX_CHECK_BODY_BYTES,
    # Documents the body in the OpenAPI (see foss_registry.api.openapi).
    request_body=CheckRequest,
    description=(
        "Public. Up to 5,000 dependencies and 4 MiB per request. Per dependency: `status` "
        "(approved, pending, rejected, or unknown = never submitted), `nearest_approved` "
        "(the highest approved version at or below, else the lowest above; null when "
        "approved), the latest scan's `scan_status`, `worst_severity` and `severity` counts, "
        "the `license` and the policy's `license_status`, the version's `flags`, and its "
        "`findings` (`id`, `aliases`, `severity`, `acknowledged` at approval, `triaged`). "
        "`verdict` is the default gate's: an approved version with a finding at high or above "
        "that was neither acknowledged nor triaged, or flagged `new_vulnerability` or "
        "`malicious`, is `vulnerable` and fails; `summary.failing` and `summary.result` say "
        "whether the gate fails. Names and versions are matched "
        "in their ecosystem's normal form. An invalid ecosystem, name or version is answered "
        "`unknown` with the reason in `note`; only a body of the wrong shape is a 400. "
        "Findings under a live triage decision, or under one of the optional `vex` statements "
        "(`not_affected`/`fixed`, products as purls), are `triaged` and do not count in "
        "`scan_status`, `severity` or the verdict."
    ),
)
async def check(request: Request[Any, Any, Any]) -> CheckResponse:
    """Look up a batch of dependencies in one request."""
    body = await decode_body(request, CheckRequest)
    count = len(body.dependencies)
    if count > MAX_CHECK_DEPENDENCIES:
        raise InvalidInputError(
            f"A check takes at most {MAX_CHECK_DEPENDENCIES:,} dependencies; this "
            f"request has {count:,}. Send them in batches (`foss check` does).",
            code="too_many_dependencies",
            errors=[FieldError("dependencies", f"at most {MAX_CHECK_DEPENDENCIES} items")],
        )
    items = [checks.CheckItem(d.name, d.version, d.ecosystem) for d in body.dependencies]
    for index, statement in enumerate(body.vex):
        if statement.status not in NOT_COUNTING:
            raise InvalidInputError(
                f"vex[{index}].status must be one of {', '.join(NOT_COUNTING)}.",
                code="invalid_vex",
                errors=[FieldError(f"vex[{index}].status", "not_affected or fixed")],
            )
    vex = [
        VexStatement(
            s.vulnerability, tuple(s.aliases), tuple(s.products), s.status, s.justification
        )
        for s in body.vex
    ]
    engine = context(request).engine

    def work() -> CheckResponse:
        with read_connection(engine) as conn:
            return checks.check(conn, items, checks.policy_in_force(conn), vex)

    return await run_db(request, work)
