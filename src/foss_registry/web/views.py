"""Everything the package page shows about one version, gathered from the services in one read.

The record (``GET /api/v1/packages/{name}``), its newest scan, the license as
the policy in force sees it (category, status, compatibility per term), and
what changed since the package's last approved version: findings that are new
and a license that differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from foss_registry.licenses import compatibility_of
from foss_registry.packages import service as packages
from foss_registry.policy import service as policy
from foss_registry.policy.rules import evaluate_license
from foss_registry.scans import service as scans
from foss_registry.vulns.open_findings import open_findings

_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "unknown": 4}


@dataclass(frozen=True)
class LicenseTermView:
    """One term of the version's license expression under the policy in force."""

    term: str
    category: str
    status: str
    reason: str
    compatibility_known: bool
    compatible_with: tuple[str, ...]
    incompatible_with: tuple[str, ...]


@dataclass(frozen=True)
class Changes:
    """What differs from the package's last approved version (None when there is none)."""

    since: str
    new_findings: list[dict[str, Any]]
    license_before: str | None
    license_now: str | None

    @property
    def license_changed(self) -> bool:
        """True when the declared license differs."""
        return (self.license_before or "") != (self.license_now or "")


@dataclass
class PackageView:
    """The package page's data."""

    record: dict[str, Any]
    scan: dict[str, Any]
    license_status: str
    license_reasons: list[str]
    terms: list[LicenseTermView]
    changes: Changes | None
    #: What an approval must acknowledge: open findings, and an errored scan.
    to_acknowledge: list[dict[str, Any]] = field(default_factory=list)


def _license_terms(
    expression: str | None, conn: Connection
) -> tuple[str, list[str], list[LicenseTermView]]:
    in_force = policy.current_policy(conn)
    evaluation = evaluate_license(in_force.policy, expression)
    terms = []
    for term in evaluation.terms:
        base = term.term.split(" WITH ", 1)[0].removesuffix("+")
        compat = compatibility_of(base)
        terms.append(
            LicenseTermView(
                term=term.term,
                category=term.category.label,
                status=term.status.value,
                reason=term.reason,
                compatibility_known=compat.compatibility_known,
                compatible_with=compat.compatible_with,
                incompatible_with=compat.incompatible_with,
            )
        )
    return evaluation.status.value, list(evaluation.reasons), terms


def _finding_ids(findings: list[dict[str, Any]]) -> set[str]:
    ids: set[str] = set()
    for finding in findings:
        ids.add(finding["id"])
        ids.update(finding.get("aliases") or ())
    return ids


def package_view(
    conn: Connection, ecosystem: str, name: str, version: str | None, *, stale_days: float
) -> PackageView:
    """Gather the package page of the selected version (raises NotFoundError when unknown)."""
    version_id = packages.select_version_id(conn, name, ecosystem=ecosystem, version=version)
    record = packages.get_record_by_id(conn, version_id)
    scan = scans.scan_report(conn, version_id, stale_days=stale_days)
    scan["vulnerabilities"].sort(
        key=lambda f: (not f.get("malicious"), _SEVERITY_ORDER.get(f.get("severity"), 5), f["id"])
    )
    status, reasons, terms = _license_terms(record["license"], conn)
    changes = None
    approved = [
        v["version"]
        for v in record["versions"]
        if v["status"] == "approved" and v["version"] != record["version"]
    ]
    if approved:
        before_id = packages.select_version_id(
            conn, record["name"], ecosystem=record["ecosystem"], version=approved[0]
        )
        before = packages.get_record_by_id(conn, before_id)
        before_scan = scans.scan_report(conn, before_id)
        known = _finding_ids(before_scan["vulnerabilities"])
        changes = Changes(
            since=approved[0],
            new_findings=[
                f
                for f in scan["vulnerabilities"]
                if not ({f["id"], *(f.get("aliases") or ())} & known)
            ],
            license_before=before["license"],
            license_now=record["license"],
        )
    # What the review service asks an approval to acknowledge (DESIGN "Deciding with open
    # findings"): the open findings, and the scan itself when it ended in error.
    to_acknowledge = [dict(f) for f in open_findings(scan["vulnerabilities"])]
    if scan["status"] == "error":
        to_acknowledge.append({"id": "the scan error", "severity": None, "error": scan["reason"]})
    return PackageView(record, scan, status, reasons, terms, changes, to_acknowledge)
