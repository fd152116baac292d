"""Adapter for osv-scanner (``osv-scanner scan image --format json``).

Its report embeds the full OSV records that matched, so findings are built
with the same code as the registry's own OSV matching. Some outputs carry only
the ids (image scans in compact form): those become findings of ``unknown``
severity unless the group's ``max_severity`` score says more.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

from foss_registry.vulns.findings import Finding, finding_from_record
from foss_registry.vulns.osv import OSVRecordError, record_from_builtins
from foss_registry.vulns.scanners.interface import (
    ExternalScanner,
    ScannerOutputError,
    as_dict,
    as_list,
    dedupe,
    text,
)
from foss_registry.vulns.severity import UNKNOWN, level_from_score

__all__ = ["OsvScanner"]


class OsvScanner(ExternalScanner):
    """osv-scanner (v2 command line): reads ``results[].packages[]``."""

    name: ClassVar[str] = "osv-scanner"
    executable_name: ClassVar[str] = "osv-scanner"
    # osv-scanner exits 1 when it found vulnerabilities; the report is still complete.
    ok_exit_codes: ClassVar[frozenset[int]] = frozenset({0, 1})

    def command(self, executable: str, ref: str) -> list[str]:
        """``osv-scanner scan image --format json <ref>``."""
        return [executable, "scan", "image", "--format", "json", ref]

    def parse(self, data: bytes | str) -> list[Finding]:
        """One finding per (package, vulnerability); osv-scanner's groups become aliases."""
        report = self._load(data)
        if not isinstance(report, dict) or "results" not in report:
            raise ScannerOutputError(self.name, "not an osv-scanner JSON report (no 'results')")
        findings: list[Finding] = []
        for result in as_list(report.get("results")):
            for package in as_list(as_dict(result).get("packages")):
                findings.extend(_package_findings(as_dict(package)))
        return findings


def _package_findings(entry: dict[str, Any]) -> list[Finding]:
    package = as_dict(entry.get("package"))
    name = text(package.get("name")) or None
    version = text(package.get("version")) or None
    groups = _groups(entry.get("groups"))
    findings: list[Finding] = []
    for vuln in as_list(entry.get("vulnerabilities")):
        finding = _vuln_finding(vuln, name, text(package.get("ecosystem")))
        if finding is None:
            continue
        group_ids, max_score = groups.get(finding.id, ((), None))
        aliases = set(finding.aliases) | set(group_ids)
        aliases.discard(finding.id)
        severity = finding.severity
        if severity == UNKNOWN and max_score is not None:
            severity = level_from_score(max_score)
        findings.append(
            dataclasses.replace(
                finding,
                aliases=tuple(sorted(aliases)),
                severity=severity,
                package=name,
                package_version=version,
            )
        )
    return findings


def _vuln_finding(vuln: Any, package_name: str | None, ecosystem: str) -> Finding | None:
    if isinstance(vuln, str):
        return Finding(id=vuln) if vuln else None
    if not isinstance(vuln, dict) or not text(vuln.get("id")):
        return None
    try:
        record = record_from_builtins(vuln, source=f"osv-scanner report, {vuln['id']}")
    except OSVRecordError:
        # An embedded record the schema parser refuses still names a vulnerability.
        return Finding(id=vuln["id"], summary=text(vuln.get("summary")))
    entries = [
        a
        for a in record.affected
        if a.package is not None
        and a.package.name == package_name
        and (not ecosystem or a.package.ecosystem == ecosystem)
    ]
    return finding_from_record(record, entries or list(record.affected))


def _groups(raw: Any) -> dict[str, tuple[tuple[str, ...], float | None]]:
    """Map each id to its group's ids and max score; compact reports give only a count."""
    out: dict[str, tuple[tuple[str, ...], float | None]] = {}
    for group in as_list(raw):
        group = as_dict(group)
        ids = dedupe([*as_list(group.get("ids")), *as_list(group.get("aliases"))])
        score = _score(group.get("max_severity"))
        for identifier in ids:
            out[identifier] = (ids, score)
    return out


def _score(value: Any) -> float | None:
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    return score if math.isfinite(score) and 0.0 <= score <= 10.0 else None
