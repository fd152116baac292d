"""External scanner adapters: parsing the real reports in the shared data, and running tools."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from foss_registry.vulns.findings import Finding, merge_by_alias, severity_counts
from foss_registry.vulns.scanners import (
    SCANNERS,
    GrypeScanner,
    OsvScanner,
    ScannerError,
    ScannerFailedError,
    ScannerOutputError,
    ScannerTimeoutError,
    ScannerUnavailableError,
    TrivyScanner,
)
from foss_registry.vulns.severity import Cvss


def report(shared_data: Path, tool: str, name: str) -> bytes:
    return (shared_data / "scanner-output" / tool / name).read_bytes()


def by_key(findings: list[Finding]) -> dict[tuple[str, str | None], Finding]:
    return {(f.id, f.package): f for f in findings}


# --- Trivy ------------------------------------------------------------------------------


def test_trivy_pip(shared_data: Path) -> None:
    findings = TrivyScanner().parse(report(shared_data, "trivy", "pip.json"))
    assert [(f.id, f.package, f.package_version) for f in findings] == [
        ("CVE-2019-14806", "Werkzeug", "0.11"),
        ("CVE-2020-28724", "Werkzeug", "0.11"),
    ]
    first, second = findings
    assert (first.severity, first.fixed_versions) == ("high", ("0.15.3",))
    # Trivy took the rating from GHSA, which has no vector here: NVD's v3 vector is shown.
    assert first.cvss == Cvss("3.0", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5)
    assert first.summary == "python-werkzeug: insufficient debugger PIN randomness vulnerability"
    assert "https://nvd.nist.gov/vuln/detail/CVE-2019-14806" in first.references
    assert (second.severity, second.fixed_versions, second.cvss and second.cvss.score) == (
        "medium",
        ("0.11.6",),
        6.1,
    )


def test_trivy_npm(shared_data: Path) -> None:
    (finding,) = TrivyScanner().parse(report(shared_data, "trivy", "npm.json"))
    assert (finding.id, finding.package, finding.package_version) == (
        "CVE-2019-11358",
        "jquery",
        "3.3.9",
    )
    assert (finding.severity, finding.fixed_versions) == ("medium", ("3.4.0",))


def test_trivy_alpine_image(shared_data: Path) -> None:
    findings = TrivyScanner().parse(report(shared_data, "trivy", "alpine-310.json"))
    assert sorted((f.id, f.package, f.fixed_versions) for f in findings) == [
        ("CVE-2019-1549", "libcrypto1.1", ("1.1.1d-r0",)),
        ("CVE-2019-1549", "libssl1.1", ("1.1.1d-r0",)),
        ("CVE-2019-1551", "libcrypto1.1", ("1.1.1d-r2",)),
        ("CVE-2019-1551", "libssl1.1", ("1.1.1d-r2",)),
    ]
    assert {f.severity for f in findings} == {"medium"}
    assert {f.package_version for f in findings} == {"1.1.1c-r0"}
    # Same CVE in two packages stays two findings.
    assert len(merge_by_alias(findings)) == 4


def test_trivy_comma_separated_fixes_and_vendor_ids() -> None:
    data = (
        b'{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"VulnerabilityID": "CVE-1",'
        b' "PkgName": "urllib3", "InstalledVersion": "1.0", "FixedVersion": "1.26.17, 2.0.6",'
        b' "VendorIDs": ["DSA-1"], "Severity": "UNKNOWN",'
        b' "CVSS": {"nvd": {"V2Vector": "AV:N/AC:L/Au:N/C:P/I:P/A:P", "V2Score": 7.5}}}]},'
        b' {"Target": "clean", "Vulnerabilities": null}]}'
    )
    (finding,) = TrivyScanner().parse(data)
    assert finding.fixed_versions == ("1.26.17", "2.0.6")
    assert finding.aliases == ("DSA-1",)
    assert finding.severity == "high"  # the UNKNOWN word gives way to the CVSS v2 score


# --- Grype ------------------------------------------------------------------------------


def test_grype_ghsa(shared_data: Path) -> None:
    findings = GrypeScanner().parse(report(shared_data, "grype", "ghsa-test.json"))
    assert [(f.id, f.aliases) for f in findings] == [
        ("GHSA-cfh5-3ghh-wfjx", ("CVE-2014-3577",)),
        ("CVE-2014-3577", ()),
    ]
    ghsa = findings[0]
    assert (ghsa.package, ghsa.package_version) == ("httpclient", "4.1.1")
    assert (ghsa.severity, ghsa.fixed_versions) == ("medium", ("4.3.5",))
    # The GHSA match has no CVSS of its own; the related NVD record's v2 vector is used.
    assert ghsa.cvss == Cvss("2.0", "AV:N/AC:M/Au:N/C:P/I:P/A:N", 5.8)
    (merged,) = merge_by_alias(findings)
    assert (merged.id, merged.aliases, merged.fixed_versions) == (
        "GHSA-cfh5-3ghh-wfjx",
        ("CVE-2014-3577",),
        ("4.3.5",),
    )


def test_grype_keycloak(shared_data: Path) -> None:
    findings = GrypeScanner().parse(report(shared_data, "grype", "keycloak-test.json"))
    assert {f.id for f in findings} == {"CVE-2020-12413"}
    assert sorted(f.package or "" for f in findings) == [
        "nspr", "nss", "nss-softokn", "nss-softokn-freebl", "nss-sysinit", "nss-util",
    ]  # fmt: skip
    for f in findings:
        # Red Hat rates it Low although the CVSS score is 5.9: the tool's word wins.
        assert (f.severity, f.fixed_versions, f.aliases) == ("low", (), ())
        assert f.cvss == Cvss("3.1", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9)


def test_grype_presenter_golden(shared_data: Path) -> None:
    findings = by_key(
        GrypeScanner().parse(report(shared_data, "grype", "TestJsonImgsPresenter.json"))
    )
    one = findings[("CVE-1999-0001", "package-1")]
    assert (one.severity, one.fixed_versions, one.package_version) == (
        "low",
        ("1.2.1", "2.1.3", "3.4.0"),
        "1.1.1",
    )
    assert one.cvss is not None and one.cvss.score == 8.2
    two = findings[("CVE-1999-0002", "package-2")]
    assert (two.severity, two.fixed_versions) == ("critical", ())
    assert severity_counts(findings.values()) == {
        "critical": 1,
        "high": 0,
        "medium": 0,
        "low": 1,
        "unknown": 0,
    }


# --- osv-scanner ------------------------------------------------------------------------


def test_osv_scanner_embedded_records(shared_data: Path) -> None:
    findings = OsvScanner().parse(
        report(shared_data, "osv-scanner", "multiple-packages-with-vulns.json")
    )
    assert len(findings) == 6
    merged = by_key(merge_by_alias(findings))
    assert set(merged) == {
        ("GHSA-43w2-9j62-hq99", "smallvec"),
        ("GHSA-qc84-gqf4-9926", "crossbeam-utils"),
        ("GHSA-wfg4-322g-9vqv", "memoffset"),
    }
    smallvec = merged[("GHSA-43w2-9j62-hq99", "smallvec")]
    assert smallvec.aliases == ("CVE-2021-25900", "RUSTSEC-2021-0003")
    assert (smallvec.severity, smallvec.package_version) == ("critical", "1.6.0")
    assert smallvec.cvss is not None and smallvec.cvss.score == 9.8
    assert smallvec.fixed_versions == ("0.6.14", "1.6.1")
    crossbeam = merged[("GHSA-qc84-gqf4-9926", "crossbeam-utils")]
    assert (crossbeam.severity, crossbeam.fixed_versions) == ("high", ("0.8.7",))
    assert crossbeam.aliases == ("CVE-2022-23639", "RUSTSEC-2022-0041")
    memoffset = merged[("GHSA-wfg4-322g-9vqv", "memoffset")]
    # No vector: the GHSA database word MODERATE gives the level.
    assert (memoffset.severity, memoffset.cvss, memoffset.fixed_versions) == (
        "medium",
        None,
        ("0.6.2",),
    )


def test_osv_scanner_machine_json_groups(shared_data: Path) -> None:
    data = report(
        shared_data, "osv-scanner", "snapshot-machinejson-multi-ecosystem-npm-nuget-packagist.json"
    )
    findings = OsvScanner().parse(data)
    assert sorted((f.id, f.package, f.package_version) for f in findings) == [
        ("OSV-1", "author1/mine1", "1.2.3"),
        ("OSV-1", "mine1", "1.2.2"),
        ("OSV-2", "mine2", "3.2.5"),
        ("OSV-3", "author3/mine3", "0.4.1"),
        ("OSV-5", "author1/mine1", "1.2.3"),
        ("OSV-5", "author3/mine3", "0.4.1"),
    ]
    levels = {(f.id, f.package): f.severity for f in findings}
    # A severity entry without a type means nothing; the group's max_severity 4.3 does.
    assert levels[("OSV-3", "author3/mine3")] == "medium"
    assert levels[("OSV-1", "mine1")] == "unknown"
    assert by_key(findings)[("OSV-1", "mine1")].summary == "Something scary!"


def test_osv_scanner_compact_image_report(shared_data: Path) -> None:
    findings = OsvScanner().parse(
        report(shared_data, "osv-scanner", "snapshot-image-scan-chiseled-ubuntu.json")
    )
    merged = merge_by_alias(findings)
    stdlib = [f for f in merged if f.package == "stdlib"]
    coreutils = [f for f in merged if f.package == "coreutils"]
    # The Go stdlib appears in six binaries; merged, each of its 25 advisories once.
    assert len(findings) == 6 * 25 + 3
    assert len(stdlib) == 25 and {f.package_version for f in stdlib} == {"1.26.0"}
    assert "GO-2026-5856" in {f.id for f in stdlib}
    assert sorted(f.id for f in coreutils) == [
        "UBUNTU-CVE-2025-5278", "UBUNTU-CVE-2026-56391", "UBUNTU-CVE-2026-56392",
    ]  # fmt: skip
    assert {f.severity for f in merged} == {"unknown"}


# --- errors and running -------------------------------------------------------------------


@pytest.mark.parametrize("cls", [TrivyScanner, GrypeScanner, OsvScanner])
@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"other": 1}'])
def test_parse_rejects_foreign_output(cls: type[TrivyScanner], data: bytes) -> None:
    with pytest.raises(ScannerOutputError) as caught:
        cls().parse(data)
    assert caught.value.scanner == cls.name


def test_registry_of_scanners() -> None:
    assert set(SCANNERS) == {"trivy", "grype", "osv-scanner"}
    for name, cls in SCANNERS.items():
        assert cls.name == name


def fake_tool(tmp_path: Path, body: str) -> str:
    """A Python script standing in for a scanner binary."""
    path = tmp_path / "fake-tool"
    path.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_unavailable_tool(tmp_path: Path) -> None:
    scanner = TrivyScanner(str(tmp_path / "no-such-trivy"))
    assert not scanner.available()
    with pytest.raises(ScannerUnavailableError):
        scanner.scan_image("alpine:3.19")
    assert not TrivyScanner("surely-not-installed-scanner-xyz").available()


def test_scan_image_runs_the_tool_and_parses(tmp_path: Path, shared_data: Path) -> None:
    golden = shared_data / "scanner-output" / "trivy" / "pip.json"
    tool = fake_tool(tmp_path, f"assert sys.argv[1] == 'image' and sys.argv[-1] == 'demo:1'\n"
                               f"sys.stdout.write(open({str(golden)!r}).read())")  # fmt: skip
    scanner = TrivyScanner(tool)
    assert scanner.available()
    assert [f.id for f in scanner.scan_image("demo:1")] == ["CVE-2019-14806", "CVE-2020-28724"]


def test_osv_scanner_exit_status_one_is_a_report(tmp_path: Path) -> None:
    tool = fake_tool(tmp_path, "print('{\"results\": []}'); sys.exit(1)")
    assert OsvScanner(tool).scan_image("demo:1") == []
    with pytest.raises(ScannerFailedError) as caught:
        GrypeScanner(fake_tool(tmp_path, "sys.stderr.write('boom'); sys.exit(1)")).scan_image(
            "demo:1"
        )
    assert caught.value.stderr == "boom"


def test_scan_image_times_out(tmp_path: Path) -> None:
    scanner = GrypeScanner(fake_tool(tmp_path, "time.sleep(30)"), timeout=0.5)
    with pytest.raises(ScannerTimeoutError):
        scanner.scan_image("demo:1")


@pytest.mark.parametrize("ref", ["", "--help", "a b", "x\x00y"])
def test_scan_image_refuses_option_like_references(tmp_path: Path, ref: str) -> None:
    scanner = TrivyScanner(fake_tool(tmp_path, "print('{}')"))
    with pytest.raises(ScannerError, match="image reference"):
        scanner.scan_image(ref)


def test_a_configured_path_must_be_executable(tmp_path: Path) -> None:
    path = tmp_path / "trivy"
    path.write_text("")
    os.chmod(path, 0o644)
    assert not TrivyScanner(str(path)).available()
