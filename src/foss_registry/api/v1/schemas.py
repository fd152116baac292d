"""Request and response shapes of API v1 (msgspec Structs, also the OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta, Struct

from foss_registry.packages.records import PackageRecord

Name = Annotated[str, Meta(min_length=1, max_length=255)]
Version = Annotated[str, Meta(min_length=1, max_length=128)]
EcosystemName = Annotated[str, Meta(min_length=1, max_length=32)]
Url = Annotated[str, Meta(max_length=2048)]
LongText = Annotated[str, Meta(max_length=10_000)]
LicenseText = Annotated[str, Meta(max_length=1024)]


class PackageSubmission(Struct, forbid_unknown_fields=True):
    """Body of ``POST /packages``: a package version submitted for review."""

    multiline_fields: ClassVar[frozenset[str]] = frozenset({"description", "justification"})

    name: Name
    version: Version
    ecosystem: EcosystemName
    license: LicenseText | None = None
    description: LongText | None = None
    homepage: Url | None = None
    repository: Url | None = None
    justification: LongText | None = None
    submitted_by: Annotated[str, Meta(max_length=255)] | None = None
    #: The URL a lockfile resolved the version from.
    resolved: Url | None = None
    #: Its integrity digest as lockfiles write it (``sha512-<base64>``).
    integrity: Annotated[str, Meta(max_length=256)] | None = None


class ReviewDecision(Struct, forbid_unknown_fields=True):
    """Body of ``POST /reviews``: approve or reject one version."""

    multiline_fields: ClassVar[frozenset[str]] = frozenset({"comment"})

    ecosystem: EcosystemName
    name: Name
    version: Version
    decision: Literal["approve", "reject"]
    comment: LongText | None = None
    #: Approve past open findings (high or above) or an errored scan, knowingly.
    acknowledge_findings: bool = False


class ReviewResult(Struct):
    """Answer of ``POST /reviews``: the decision and the updated package record."""

    decision: str
    by: str
    comment: str | None
    package: PackageRecord
    scan_status: str | None = None
    acknowledged: list[str] = []
    #: What the reviewer should know (approved while the scan is pending or not_scanned).
    warnings: list[str] = []


class ReviewListItem(Struct):
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


class ReviewList(Struct):
    """A page of the review queue and history."""

    reviews: list[ReviewListItem]
    total: int
    limit: int
    offset: int


class FieldProblem(Struct):
    """One invalid input field."""

    field: str
    message: str


class Problem(Struct, omit_defaults=True):
    """RFC 9457 problem details: the one shape of every error response."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] = msgspec.field(default_factory=list)


class TokenCreate(Struct, forbid_unknown_fields=True):
    """Body of ``POST /tokens`` (admin)."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    role: Literal["submitter", "reviewer", "admin"]
    expires_in_days: Annotated[int, Meta(ge=1, le=3650)] | None = None


class LicenseInfo(Struct):
    """``GET /licenses/{id}``: the seed's fields plus catalog and compatibility facts.

    ``compatible_with`` lists the licenses a combined work may carry when it
    includes code under this license (OSADL matrix: outbound rows whose cell
    for this inbound license is "Yes"); ``incompatible_with`` those it may not;
    ``compatibility_unknown`` the rows that say "Unknown" or "Check dependency".
    ``compatibility_known`` is false when the matrix does not cover the license.
    """

    name: str
    status: str
    category: str
    compatible_with: list[str]
    incompatible_with: list[str]
    requires_attribution: bool
    allows_commercial: bool
    url: str
    full_name: str
    kind: str
    osi_approved: bool
    fsf_libre: bool | None
    deprecated: bool
    replaced_by: str | None
    compatibility_unknown: list[str]
    compatibility_known: bool


class LicenseSummary(Struct):
    """One license in ``GET /licenses``."""

    name: str
    full_name: str
    category: str
    status: str
    osi_approved: bool
    deprecated: bool
    kind: str
    url: str


class LicenseList(Struct):
    """A page of licenses."""

    licenses: list[LicenseSummary]
    total: int
    limit: int
    offset: int


class CompatibilityAnswer(Struct):
    """``GET /licenses/compatibility``: may a work under ``outbound`` use ``expression``?"""

    answer: Literal["yes", "no", "unknown"]
    outbound: str
    expression: str
    reasons: list[str]


class PolicyDocument(Struct, forbid_unknown_fields=True):
    """Body of ``PUT /policy``: statuses per category and per license id."""

    auto_approve: bool = False
    categories: dict[str, str] = msgspec.field(default_factory=dict)
    licenses: dict[str, str] = msgspec.field(default_factory=dict)
    #: The flat ``[signals]`` table: ``min_release_age_days`` and a level per signal code.
    signals: dict[str, str | float] = msgspec.field(default_factory=dict)


class EnrichRequest(Struct, forbid_unknown_fields=True):
    """Body of ``POST /enrich``: one version, or every version of the name without ``version``."""

    ecosystem: str
    name: str
    version: str | None = None


class EnrichResult(Struct):
    """Answer of ``POST /enrich``: the versions whose enrichment was queued."""

    ecosystem: str
    name: str
    queued: list[str]


class PolicyInForce(Struct):
    """The license policy in force and where it comes from (``api``, ``file:...``, ``default``)."""

    auto_approve: bool
    categories: dict[str, str]
    licenses: dict[str, str]
    signals: dict[str, str | float]
    source: str
    updated_at: str | None
    updated_by: str | None


class SourceCount(Struct):
    """Records of one source (PYSEC, GHSA, MAL...) in one ecosystem."""

    records: int
    withdrawn: int


class EcosystemData(Struct):
    """The vulnerability data of one ecosystem: counts and freshness."""

    ecosystem: str
    records: int
    sources: dict[str, SourceCount]
    newest_modified: str | None
    last_imported_at: str | None
    age_days: float | None
    stale: bool | None


class VulnDbStatus(Struct):
    """Answer of ``GET /vulndb/status`` (admin): what the vulnerability database holds."""

    records: int
    withdrawn: int
    newest_modified: str | None
    age_days: float | None
    stale: bool | None
    last_imported_at: str | None
    ecosystems: list[EcosystemData]


class FailedJob(Struct):
    """A job parked after its last attempt failed, with the error."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    last_error: str | None
    created_at: str
    finished_at: str | None


class FailedJobList(Struct):
    """A page of failed jobs, newest first."""

    jobs: list[FailedJob]
    limit: int
    offset: int
