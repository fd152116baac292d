"""Adapter for Grype (``grype <image> -o json``)."""

from __future__ import annotations

from typing import Any, ClassVar

from foss_registry.vulns.findings import Finding
from foss_registry.vulns.scanners.interface import (
    ExternalScanner,
    ScannerOutputError,
    as_dict,
    as_list,
    cvss_from,
    dedupe,
    level_or_cvss,
    text,
)
from foss_registry.vulns.severity import Cvss

__all__ = ["GrypeScanner"]


class GrypeScanner(ExternalScanner):
    """Grype: reads ``matches[]`` (vulnerability, related vulnerabilities, artifact)."""

    name: ClassVar[str] = "grype"
    executable_name: ClassVar[str] = "grype"

    def command(self, executable: str, ref: str) -> list[str]:
        """``grype <ref> -o json`` without the update check or progress output."""
        return [executable, ref, "-o", "json", "--quiet"]

    def parse(self, data: bytes | str) -> list[Finding]:
        """One finding per match; related vulnerability ids become aliases."""
        report = self._load(data)
        if not isinstance(report, dict) or "matches" not in report:
            raise ScannerOutputError(self.name, "not a Grype JSON report (no 'matches')")
        findings: list[Finding] = []
        for match in as_list(report.get("matches")):
            finding = _finding(as_dict(match))
            if finding is not None:
                findings.append(finding)
        return findings


def _finding(match: dict[str, Any]) -> Finding | None:
    vuln = as_dict(match.get("vulnerability"))
    vuln_id = text(vuln.get("id"))
    if not vuln_id:
        return None
    related = [as_dict(r) for r in as_list(match.get("relatedVulnerabilities"))]
    artifact = as_dict(match.get("artifact"))
    # The related record (often the NVD entry of the same CVE) fills what the match lacks.
    cvss = _pick_cvss(as_list(vuln.get("cvss"))) or _pick_cvss(
        [c for r in related for c in as_list(r.get("cvss"))]
    )
    word = text(vuln.get("severity"))
    if word.lower() in ("", "unknown"):
        word = next((text(r.get("severity")) for r in related if text(r.get("severity"))), word)
    description = text(vuln.get("description")) or next(
        (text(r.get("description")) for r in related if text(r.get("description"))), ""
    )
    fix = as_dict(vuln.get("fix"))
    return Finding(
        id=vuln_id,
        aliases=tuple(sorted(set(dedupe(text(r.get("id")) for r in related)) - {vuln_id})),
        summary=description.split("\n", 1)[0],
        severity=level_or_cvss(word, cvss),
        cvss=cvss,
        fixed_versions=dedupe(as_list(fix.get("versions"))),
        references=dedupe([text(vuln.get("dataSource")), *as_list(vuln.get("urls"))]),
        malicious=False,
        package=text(artifact.get("name")) or None,
        package_version=text(artifact.get("version")) or None,
    )


def _pick_cvss(entries: list[Any]) -> Cvss | None:
    """The primary (else first) entry of the newest CVSS version that parses."""
    candidates: list[tuple[tuple[int, ...], int, Cvss]] = []
    for position, raw in enumerate(entries):
        entry = as_dict(raw)
        score = as_dict(entry.get("metrics")).get("baseScore")
        cvss = cvss_from(entry.get("vector"), score)
        if cvss is None:
            continue
        version = tuple(int(p) for p in cvss.version.split(".") if p.isdigit())
        primary = 0 if text(entry.get("type")).lower() == "primary" else 1
        candidates.append((tuple(-v for v in version), primary * 1000 + position, cvss))
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c[0], c[1]))[2]
