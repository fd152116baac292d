"""The pure parts of a scan: pass or fail, what changed, image references, configuration."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from foss_registry.config import Settings
from foss_registry.scans.scanner import ScanConfig, decide, diff_findings, image_ref
from foss_registry.vulns.findings import Finding


def test_decide_by_threshold() -> None:
    medium = Finding(id="GHSA-1", severity="medium")
    assert decide([], "low") == ("passed", None)
    status, reason = decide([medium], "high")
    assert status == "passed" and reason is not None and "below the fail threshold 'high'" in reason
    status, reason = decide([medium], "medium")
    assert status == "failed" and reason is not None and "GHSA-1 (medium)" in reason


def test_unknown_severity_and_malware_fail_at_any_threshold() -> None:
    assert decide([Finding(id="PYSEC-1")], "critical")[0] == "failed"
    status, reason = decide([Finding(id="MAL-1", severity="critical", malicious=True)], "critical")
    assert status == "failed" and reason == "Malicious release: MAL-1."


def test_long_failure_reasons_are_cut() -> None:
    findings = [Finding(id=f"GHSA-{n}", severity="high") for n in range(15)]
    reason = decide(findings, "low")[1]
    assert reason is not None and reason.endswith("and 5 more.") and "GHSA-14" not in reason


def test_diff_compares_alias_groups() -> None:
    previous = [
        Finding(id="GHSA-a", aliases=("CVE-1",), severity="high").to_dict(),
        Finding(id="GHSA-gone", severity="low").to_dict(),
        Finding(id="GHSA-fixed", severity="low", fixed_versions=("1.0",)).to_dict(),
    ]
    current = [
        # The same vulnerability, now known under a PYSEC id too: not new.
        Finding(id="PYSEC-a", aliases=("CVE-1", "GHSA-a"), severity="high"),
        Finding(id="GHSA-fixed", severity="low", fixed_versions=("1.0", "2.0")),
        Finding(id="MAL-new", severity="critical", malicious=True),
    ]
    assert diff_findings(previous, current, "failed") == {
        "previous_status": "failed",
        "added": ["MAL-new"],
        "removed": ["GHSA-gone"],
        "changed": ["GHSA-fixed"],
    }


def test_diff_keeps_image_packages_apart() -> None:
    before = [Finding(id="CVE-1", package="libssl", package_version="1").to_dict()]
    now = [Finding(id="CVE-1", package="libcrypto", package_version="1")]
    changes = diff_findings(before, now, "failed")
    assert (changes["added"], changes["removed"]) == (["CVE-1"], ["CVE-1"])


def test_image_ref() -> None:
    assert image_ref("library/nginx", "1.25.3") == "library/nginx:1.25.3"
    digest = "sha256:" + "0" * 64
    assert image_ref("ghcr.io/acme/app", digest) == f"ghcr.io/acme/app@{digest}"


def test_config_from_settings() -> None:
    config = ScanConfig.from_settings(
        Settings(scanners="grype, trivy", grype_path="/opt/grype", scan_fail_severity="high")
    )
    assert config.fail_severity == "high"
    assert [(s.name, s.executable) for s in config.scanners] == [
        ("grype", "/opt/grype"),
        ("trivy", None),
    ]
    assert ScanConfig.from_settings(Settings(scanners="")).scanners == ()
    # A misspelt scanner stops the server at start, not each scan later.
    with pytest.raises(ValidationError, match="clair"):
        Settings(scanners="trivy,clair")
