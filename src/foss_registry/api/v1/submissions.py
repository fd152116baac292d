"""``POST /submissions``: submit many package versions in one request and one transaction."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, post
from litestar.di import NamedDependency
from msgspec import Meta, Struct
from sqlalchemy import Connection

from foss_registry.api.deps import run_write
from foss_registry.api.errors import problem_body
from foss_registry.api.roles import Actor, requires
from foss_registry.api.v1.packages import package_location
from foss_registry.api.v1.schemas import PackageSubmission
from foss_registry.intake.service import submit_batch
from foss_registry.packages.records import PackageRecord

#: Most submissions one request takes (the body limit, 1 MiB by default, applies too).
MAX_BATCH = 1000


class SubmissionBatch(Struct, forbid_unknown_fields=True):
    """Body of ``POST /submissions``: up to 1,000 submissions, each as ``POST /packages`` takes."""

    packages: Annotated[list[PackageSubmission], Meta(min_length=1, max_length=MAX_BATCH)]


class SubmissionOutcome(Struct):
    """One submission's answer: the ``status`` ``POST /packages`` would have given, and
    the stored record (201, with its ``location``) or the problem details (400, 409)."""

    status: int
    package: PackageRecord | None = None
    location: str | None = None
    problem: dict[str, Any] | None = None


class SubmissionBatchResult(Struct):
    """Answer of ``POST /submissions``: one outcome per submission, in order, and counts."""

    results: list[SubmissionOutcome]
    created: int
    existing: int
    invalid: int


@post(
    "/submissions",
    summary="Submit many package versions at once",
    tags=["packages"],
    status_code=200,
    description=(
        "Needs a submitter key when auth is on. `packages` holds up to 1,000 submissions, each "
        "with the fields of `POST /packages`; they are stored in one transaction and each is "
        "answered as `POST /packages` answers it: `status` 201 with the record and its "
        "`location`, 409 for a version already submitted, 400 for an invalid one, with the "
        "problem details. One bad submission stores nothing of its own and does not fail the "
        "others. The batch counts as one request for the rate limits."
    ),
    **requires(
        "submitter",
        body=SubmissionBatch,
        named_by=lambda batch: batch.packages[0].submitted_by,
    ),
)
async def submit_many(
    request: Request[Any, Any, Any], payload: NamedDependency[SubmissionBatch], actor: Actor
) -> SubmissionBatchResult:
    """Store a batch of submissions in one transaction, each answered on its own."""

    def work(conn: Connection) -> list[Any]:
        return submit_batch(conn, payload.packages, actor.name)

    outcomes = await run_write(request, work)
    results: list[SubmissionOutcome] = []
    counts = {201: 0, 409: 0, 400: 0}
    for outcome in outcomes:
        if outcome.record is not None:
            results.append(
                SubmissionOutcome(
                    status=201,
                    package=outcome.record,
                    location=package_location(outcome.record),
                )
            )
            counts[201] += 1
            continue
        error = outcome.error
        results.append(
            SubmissionOutcome(
                status=error.status,
                problem=problem_body(error.status, error.detail, error.code, error.errors),
            )
        )
        counts[409 if error.status == 409 else 400] += 1
    return SubmissionBatchResult(
        results=results, created=counts[201], existing=counts[409], invalid=counts[400]
    )
