"""Request and response shapes of API v1 (msgspec Structs, also the OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta, Struct

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


class PackageSummary(Struct):
    """One package version in a list."""

    name: str
    version: str
    ecosystem: str
    status: str
    license: str | None


class PackageList(Struct):
    """A page of package versions; ``total`` counts every match."""

    packages: list[PackageSummary]
    total: int
    limit: int
    offset: int


class VersionStatus(Struct):
    """One known version of a package and its status."""

    version: str
    status: str


class ReviewEntry(Struct):
    """One decision in a version's history (``by`` is ``policy`` for automatic ones)."""

    decision: str
    by: str
    at: str
    comment: str | None
    reasons: list[str]
    #: The version's scan status when the decision was made (null for older decisions).
    scan_status: str | None = None
    #: Ids of the open findings the approval acknowledged.
    acknowledged: list[str] = []


class UpstreamDependency(Struct):
    """A dependency as upstream declares it; ``scope`` runtime, optional, dev or test."""

    name: str
    requirement: str
    scope: str


class InstallScriptInfo(Struct):
    """A command the package manager runs at install (``name`` e.g. ``postinstall``)."""

    name: str
    command: str


class UpstreamFileInfo(Struct, omit_defaults=True):
    """A file of the version upstream: ``kind`` wheel, sdist, tarball, jar or pom."""

    filename: str
    kind: str
    sha256: str | None = None
    integrity: str | None = None


class UpstreamInfo(Struct):
    """What the ecosystem's registry says about the version (DESIGN "Details of the upstream
    record"); ``status`` ok, not_found, unavailable, not_configured or pending."""

    status: str
    source: str | None
    fetched_at: str | None
    license: str | None
    license_raw: str | None
    released_at: str | None
    yanked: bool
    yanked_reason: str | None
    deprecated: str | None
    homepage: str | None
    repository: str | None
    dependencies: list[UpstreamDependency]
    install_scripts: list[InstallScriptInfo]
    files: list[UpstreamFileInfo]
    #: Why the upstream was unavailable or what it did not know, else null.
    reason: str | None
    #: True when no license was submitted and upstream's is the version's license.
    license_from_upstream: bool


class SignalInfo(Struct):
    """A risk signal: ``code``, ``level`` (info, review, block) and a message for a reviewer."""

    code: str
    level: str
    message: str


class PackageRecord(Struct):
    """The full record of one package version."""

    name: str
    version: str
    ecosystem: str
    status: str
    license: str | None
    description: str | None
    homepage: str | None
    repository: str | None
    submitted_by: str
    submitted_at: str
    approved_by: str | None
    approved_at: str | None
    rejected_by: str | None
    rejected_at: str | None
    rejection_reason: str | None
    justification: str | None
    purl: str
    flags: list[str]
    policy_reasons: list[str]
    versions: list[VersionStatus]
    reviews: list[ReviewEntry]
    upstream: UpstreamInfo
    signals: list[SignalInfo]
    resolved: str | None = None
    integrity: str | None = None


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


class TokenInfo(Struct):
    """A token's public fields; the secret appears only in the creation answer."""

    id: int
    name: str
    role: str
    prefix: str
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None


class TokenCreated(TokenInfo):
    """Answer of ``POST /tokens``: the token's fields and, once, its secret."""

    token: str = ""


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


class CvssScore(Struct):
    """A CVSS rating: version (``"3.1"``), vector, base score."""

    version: str
    vector: str
    score: float


class FindingTriage(Struct):
    """The live triage decision covering a finding: it no longer counts while this holds."""

    id: int
    state: str
    justification: str | None
    comment: str | None
    expires_at: str | None
    by: str


class Vulnerability(Struct, omit_defaults=True):
    """One finding of a scan: one vulnerability (all its ids) or one malicious release.

    ``package``/``package_version`` appear only for image scans, naming the
    package inside the image. ``triage`` is the decision that makes the finding
    stop counting, or null.
    """

    id: str
    aliases: list[str]
    summary: str
    severity: str
    cvss: CvssScore | None
    fixed_versions: list[str]
    references: list[str]
    malicious: bool
    triage: FindingTriage | None
    package: str | None = None
    package_version: str | None = None


class ScanSeverityCounts(Struct):
    """Findings per severity level."""

    critical: int
    high: int
    medium: int
    low: int
    unknown: int


class DatabaseAge(Struct):
    """How old the vulnerability data behind a scan is (its newest record's ``modified``)."""

    updated_at: str
    age_days: float
    stale: bool | None


class ScanChanges(Struct):
    """What a scan found that the previous completed scan did not, and the reverse."""

    previous_status: str
    added: list[str]
    removed: list[str]
    changed: list[str]


class ScanHistoryEntry(Struct):
    """One scan of the version, oldest first; ``trigger`` says what asked for it."""

    status: str
    scan_date: str | None
    trigger: str
    reason: str | None
    severity: ScanSeverityCounts
    changes: ScanChanges | None


class ScanReport(Struct):
    """Answer of ``GET /security/scans/{name}``: the newest scan of the selected version."""

    package: str
    version: str
    ecosystem: str
    scan_date: str | None
    status: str
    reason: str | None
    vulnerabilities: list[Vulnerability]
    severity: ScanSeverityCounts
    tools_used: list[str]
    database: DatabaseAge | None
    attempts: int | None
    history: list[ScanHistoryEntry]
    history_total: int


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
