"""Intake of a submission: validate it whole, store it, and queue what follows.

This is the one place a submission passes through, whichever edge it comes
from (API, CLI ``--submit-missing``, web pages), so the license check and the
scan job are never forgotten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from sqlalchemy import Connection

from foss_registry.enrichment import service as enrichment
from foss_registry.errors import DomainError, FieldError, InvalidInputError
from foss_registry.packages import service as packages
from foss_registry.packages.records import PackageRecord
from foss_registry.scans import service as scans
from foss_registry.webhooks import events


class SubmissionFields(Protocol):
    """Anything carrying the fields of a submission (the API body, a CLI value)."""

    name: str
    version: str
    ecosystem: str
    license: str | None
    description: str | None
    homepage: str | None
    repository: str | None
    justification: str | None


@lru_cache(maxsize=4096)
def _parse_license(text: str) -> str:
    # Most submissions carry one of a few dozen expressions; parsing one costs
    # tens of microseconds. Only successes are cached (errors are raised anew).
    from foss_registry.licenses.expressions import parse_submitted

    return parse_submitted(text)


def normalize_license(text: str | None) -> str | None:
    """Return the submitted license as a normalised SPDX expression (None if absent)."""
    if text is None or not text.strip():
        return None
    try:
        return _parse_license(text)
    except InvalidInputError as exc:
        if not exc.errors:
            exc.errors = [FieldError("license", exc.detail)]
        raise


def submit_package(
    conn: Connection, body: SubmissionFields, submitted_by: str
) -> PackageRecord:
    """Validate, store and queue the scan of one submission; return its record."""
    if body.license is not None and "\x00" in body.license:
        raise InvalidInputError(
            "The field 'license' contains a null byte.",
            errors=[FieldError("license", "must not contain null bytes")],
        )
    submission = packages.Submission(
        name=body.name,
        version=body.version,
        ecosystem=body.ecosystem,
        license=body.license,
        description=body.description,
        homepage=body.homepage,
        repository=body.repository,
        justification=body.justification,
        # Optional: not every edge sends them (DESIGN "Accepted submission fields").
        resolved=getattr(body, "resolved", None),
        integrity=getattr(body, "integrity", None),
    )
    # Validate identity first so an invalid name is reported before the license.
    packages.identify(submission.ecosystem, submission.name, submission.version)
    expression = normalize_license(body.license)
    stored = packages.submit(
        conn, submission, submitted_by=submitted_by, license_expression=expression
    )
    scans.request_scan(
        conn, stored.id, trigger="submission", image=stored.record.ecosystem == "docker"
    )
    # What the upstream registry says comes later, from a job: never slows intake.
    enrichment.request_enrichment(conn, stored.id)
    events.emit(conn, "package.submitted", events.package_data(stored.record))
    # Built from what was inserted (nothing else changes a version in this
    # transaction), not read back.
    return stored.record


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one submission of a batch: its record, or the error it met."""

    record: PackageRecord | None = None
    error: DomainError | None = None


def submit_batch(
    conn: Connection, bodies: Sequence[SubmissionFields], submitted_by: str
) -> list[BatchOutcome]:
    """Submit many versions in the caller's one transaction, each answered on its own.

    Each goes through :func:`submit_package`, so the validation and the answers
    are those of a single submission: an invalid one or a duplicate is answered
    with its error and stores nothing (every check runs before the insert, and a
    duplicate inserts no row), while the others are stored.
    """
    outcomes: list[BatchOutcome] = []
    for body in bodies:
        try:
            outcomes.append(BatchOutcome(record=submit_package(conn, body, submitted_by)))
        except DomainError as exc:
            outcomes.append(BatchOutcome(error=exc))
    return outcomes
