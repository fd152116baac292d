"""Adapter for Trivy (``trivy image --format json``, report SchemaVersion 2)."""

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

__all__ = ["TrivyScanner"]

# Order in which a vulnerability's per-source CVSS entries are considered, after
# the source Trivy itself took the severity from (``SeveritySource``).
_CVSS_SOURCES = ("nvd", "ghsa", "redhat")
# Newest CVSS version first, as for OSV records.
_VECTOR_FIELDS = (("V40Vector", "V40Score"), ("V3Vector", "V3Score"), ("V2Vector", "V2Score"))


class TrivyScanner(ExternalScanner):
    """Trivy: reads ``Results[].Vulnerabilities[]`` of its JSON report."""

    name: ClassVar[str] = "trivy"
    executable_name: ClassVar[str] = "trivy"

    def command(self, executable: str, ref: str) -> list[str]:
        """``trivy image`` with JSON output, vulnerabilities only, no progress bar."""
        timeout = f"{max(1, int(self.timeout))}s"
        return [
            executable, "image", "--quiet", "--format", "json",
            "--scanners", "vuln", "--timeout", timeout, ref,
        ]  # fmt: skip

    def parse(self, data: bytes | str) -> list[Finding]:
        """One finding per reported (package, vulnerability) pair."""
        report = self._load(data)
        if not isinstance(report, dict) or (
            "Results" not in report and "SchemaVersion" not in report
        ):
            raise ScannerOutputError(self.name, "not a Trivy JSON report (no 'Results')")
        findings: list[Finding] = []
        for result in as_list(report.get("Results")):
            for vuln in as_list(as_dict(result).get("Vulnerabilities")):
                finding = _finding(as_dict(vuln))
                if finding is not None:
                    findings.append(finding)
        return findings


def _finding(vuln: dict[str, Any]) -> Finding | None:
    vuln_id = text(vuln.get("VulnerabilityID"))
    if not vuln_id:
        return None
    cvss = _pick_cvss(as_dict(vuln.get("CVSS")), text(vuln.get("SeveritySource")))
    references = dedupe([*as_list(vuln.get("References")), text(vuln.get("PrimaryURL"))])
    summary = text(vuln.get("Title")) or text(vuln.get("Description")).split("\n", 1)[0]
    # FixedVersion lists one fix per branch, comma-separated ("1.26.17, 2.0.6").
    fixed = dedupe(v.strip() for v in text(vuln.get("FixedVersion")).split(","))
    return Finding(
        id=vuln_id,
        aliases=tuple(sorted(set(dedupe(as_list(vuln.get("VendorIDs")))) - {vuln_id})),
        summary=summary,
        severity=level_or_cvss(vuln.get("Severity"), cvss),
        cvss=cvss,
        fixed_versions=fixed,
        references=references,
        malicious=False,
        package=text(vuln.get("PkgName")) or None,
        package_version=text(vuln.get("InstalledVersion")) or None,
    )


def _pick_cvss(by_source: dict[str, Any], severity_source: str) -> Cvss | None:
    order = [severity_source, *_CVSS_SOURCES, *sorted(by_source)]
    for source in dict.fromkeys(s for s in order if s):
        entry = as_dict(by_source.get(source))
        for vector_field, score_field in _VECTOR_FIELDS:
            cvss = cvss_from(entry.get(vector_field), entry.get(score_field))
            if cvss is not None:
                return cvss
    return None
