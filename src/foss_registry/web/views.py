"""Everything the package page shows about one version, gathered from the services in one read.

The record (``GET /api/v1/packages/{name}``), its newest scan, the license as
the policy in force sees it (category, status, compatibility per term), and
what changed since the package's last approved version: findings that are new
and a license that differs.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import msgspec
from markupsafe import Markup
from sqlalchemy import Connection, select

from foss_registry import ecosystems
from foss_registry.licenses import compatibility_of
from foss_registry.packages import records as reads
from foss_registry.packages.models import package_versions as pv
from foss_registry.packages.records import PackageRecord, UpstreamInfo
from foss_registry.policy import service as policy
from foss_registry.policy.rules import evaluate_license
from foss_registry.scans import service as scans
from foss_registry.security import service as security
from foss_registry.security.records import ScanReport, Vulnerability
from foss_registry.vulns.open_findings import open_findings
from foss_registry.web.render import package_url

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
    compatibility_unknown: tuple[str, ...]

    @property
    def compatibility(self) -> str:
        """Where code under the term may go, in words: how many of the matrix's licenses a
        work including it may carry, may not, and which the matrix does not answer."""
        if not self.compatibility_known:
            return "not covered by the matrix"
        return compatibility_in_words(
            len(self.compatible_with), len(self.incompatible_with), len(self.compatibility_unknown)
        )


def _licenses(count: int) -> str:
    return f"{count} license" if count == 1 else f"{count} licenses"


def compatibility_in_words(compatible: int, incompatible: int, unknown: int) -> str:
    """A term's compatibility counts as a phrase; a count of 0 is left unsaid, one that is
    all of the matrix's licenses says so."""
    total = compatible + incompatible + unknown
    if compatible == total:
        return f"may go into works under any of the {total} licenses of the matrix"
    if incompatible == total:
        return f"may go into works under none of the {total} licenses of the matrix"
    if unknown == total:
        return f"unknown for all {total} licenses of the matrix"
    if compatible:
        said = f"may go into works under {_licenses(compatible)}"
        if incompatible:
            said += f", not into {incompatible}"
    else:
        said = f"may not go into works under {_licenses(incompatible)}"
    if unknown:
        said += f"; unknown for the other {unknown}"
    return said


@dataclass(frozen=True)
class Changes:
    """What differs from the package's last approved version (None when there is none)."""

    since: str
    new_findings: list[Vulnerability]
    license_before: str | None
    license_now: str | None
    #: Dependencies the registry upstream declares now and did not before (None: not known).
    new_dependencies: list[str] | None = None

    @property
    def license_changed(self) -> bool:
        """True when the declared license differs."""
        return (self.license_before or "") != (self.license_now or "")


@dataclass
class PackageView:
    """The package page's data."""

    record: PackageRecord
    scan: ScanReport
    license_status: str
    license_reasons: list[str]
    terms: list[LicenseTermView]
    changes: Changes | None
    #: What an approval must acknowledge: open findings, and an errored scan.
    to_acknowledge: list[dict[str, Any]] = field(default_factory=list)
    #: The list items of every version, built at once (a package may have thousands).
    versions_html: Markup = field(default_factory=Markup)


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
                compatibility_unknown=compat.compatibility_unknown,
            )
        )
    return evaluation.status.value, list(evaluation.reasons), terms


_UPSTREAM_FACTS_SQL = "SELECT status, facts, signals FROM upstream_records WHERE version_id = :id"


def _new_dependencies(before: UpstreamInfo, now: UpstreamInfo) -> list[str] | None:
    """Names of dependencies declared now and not before; None unless both were fetched."""
    if before.status != "ok" or now.status != "ok":
        return None
    known = {d.name for d in before.dependencies}
    return sorted({d.name for d in now.dependencies if d.name not in known})


def _finding_ids(findings: list[dict[str, Any]]) -> set[str]:
    ids: set[str] = set()
    for finding in findings:
        ids.add(finding["id"])
        ids.update(finding.get("aliases") or ())
    return ids


_PLAIN_VERSION = re.compile(r"[A-Za-z0-9._-]+")


def _versions_html(record: PackageRecord, versions: list[tuple[str, str]]) -> Markup:
    """The list items of every version, escaped, built in one pass (a template loop costs
    a few milliseconds for a package with a thousand versions)."""
    base = html.escape(package_url(record.ecosystem, record.name))
    here = record.version
    items = []
    for v, status in versions:
        query = v if _PLAIN_VERSION.fullmatch(v) else quote(v, safe="")
        text = html.escape(v)
        # Statuses are the three fixed words.
        if v == here:
            items.append(
                f'<li class="current"><a href="{base}?version={query}" aria-current="page">'
                f'{text}</a> <span class="badge small {status}">{status}</span></li>'
            )
        else:
            items.append(
                f'<li><a href="{base}?version={query}">{text}</a> '
                f'<span class="badge small {status}">{status}</span></li>'
            )
    return Markup("".join(items))


def package_view(
    conn: Connection, ecosystem: str, name: str, version: str | None, *, stale_days: float
) -> PackageView:
    """Gather the package page of the selected version (raises NotFoundError when unknown)."""
    read = reads.sqlalchemy_reader(conn)
    # One read of the package's versions (a package may have thousands), reused below.
    version_id, versions = reads.select_with_versions(read, name, ecosystem, version)
    record = reads.record_of(read, version_id, versions)
    scan = security.scan_report(conn, version_id, stale_days=stale_days)
    scan.vulnerabilities.sort(
        key=lambda f: (not f.malicious, _SEVERITY_ORDER.get(f.severity, 5), f.id)
    )
    status, reasons, terms = _license_terms(record.license, conn)
    changes = None
    approved = next((v for v, s in versions if s == "approved" and v != record.version), None)
    if approved is not None:
        # A point read by the unique key, not another read of every version.
        eco = ecosystems.get(record.ecosystem)
        before_id, before_license = conn.execute(
            select(pv.c.id, pv.c.license).where(
                pv.c.ecosystem == eco.name,
                pv.c.normalized_name == eco.normalize_name(record.name),
                pv.c.canonical_version == eco.canonical_version(approved),
            )
        ).one()
        before_scan = scans.latest_scan_row(conn, before_id)
        known = _finding_ids(list(before_scan["findings"] or []) if before_scan else [])
        before_upstream = reads.upstream_fields(
            record.ecosystem,
            next(iter(read(_UPSTREAM_FACTS_SQL, {"id": before_id})), None),
        )[0]
        changes = Changes(
            new_dependencies=_new_dependencies(before_upstream, record.upstream),
            since=approved,
            new_findings=[f for f in scan.vulnerabilities if not ({f.id, *f.aliases} & known)],
            license_before=before_license,
            license_now=record.license,
        )
    versions_html = _versions_html(record, versions)
    # What the review service asks an approval to acknowledge (DESIGN "Deciding with open
    # findings"): the open findings, and the scan itself when it ended in error.
    to_acknowledge = [dict(f) for f in open_findings(msgspec.to_builtins(scan.vulnerabilities))]
    if scan.status == "error":
        to_acknowledge.append({"id": "the scan error", "severity": None, "error": scan.reason})
    return PackageView(record, scan, status, reasons, terms, changes, to_acknowledge, versions_html)
