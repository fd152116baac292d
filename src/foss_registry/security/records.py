"""The scan report as the service returns it and the API shows it (one definition)."""

from __future__ import annotations

from msgspec import Struct

from foss_registry.scans.records import ScanHistoryEntry, ScanSeverityCounts


class CvssScore(Struct, frozen=True):
    """A CVSS rating: version (``"3.1"``), vector, base score."""

    version: str
    vector: str
    score: float


class FindingTriage(Struct, frozen=True):
    """The live triage decision covering a finding: it no longer counts while this holds."""

    id: int
    state: str
    justification: str | None
    comment: str | None
    expires_at: str | None
    by: str


class Vulnerability(Struct, frozen=True, omit_defaults=True):
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


class DatabaseAge(Struct, frozen=True):
    """How old the vulnerability data behind a scan is (its newest record's ``modified``)."""

    updated_at: str
    age_days: float
    stale: bool | None


class ScanReport(Struct, frozen=True):
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
