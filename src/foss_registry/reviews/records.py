"""The review queue and history as the services return them and the API and pages show them.

One definition each: ``reviews.service`` builds them, ``GET /reviews`` and
``POST /reviews`` answer them, and the queue page reads their attributes.
"""

from __future__ import annotations

from msgspec import Struct

from foss_registry.packages.records import PackageRecord


class ReviewResult(Struct, frozen=True):
    """Answer of ``POST /reviews``: the decision and the updated package record."""

    decision: str
    by: str
    comment: str | None
    package: PackageRecord
    scan_status: str | None = None
    acknowledged: list[str] = []
    #: What the reviewer should know (approved while the scan is pending or not_scanned).
    warnings: list[str] = []


class ReviewListItem(Struct, frozen=True):
    """A queue entry (``decision`` null) or a past decision with its version."""

    name: str
    version: str
    ecosystem: str
    status: str
    license: str | None
    submitted_by: str
    submitted_at: str
    flags: list[str]
    decision: str | None
    by: str | None
    at: str | None
    comment: str | None
    reasons: list[str]
    scan_status: str | None = None
    acknowledged: list[str] = []


class ReviewList(Struct, frozen=True):
    """A page of the review queue and history."""

    reviews: list[ReviewListItem]
    total: int
    limit: int
    offset: int


class QueueEntry(Struct, frozen=True):
    """A pending version in the reviewers' queue page, oldest submission first."""

    name: str
    version: str
    ecosystem: str
    license: str | None
    submitted_by: str
    submitted_at: str
    flags: list[str]
