"""Findings from records, merging by alias, and severity counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foss_registry import ecosystems
from foss_registry.vulns.findings import (
    Finding,
    finding_from_record,
    findings_for_version,
    merge_by_alias,
    severity_counts,
    summary_of,
    version_sorter,
    worst_severity,
)
from foss_registry.vulns.severity import Cvss

from .builders import entry, make_record

V31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"


def test_finding_from_record_takes_fixes_from_the_matching_entries_only() -> None:
    record = make_record(
        [
            entry(
                ("GIT", [{"introduced": "0"}, {"fixed": "deadbeef"}]),
                [
                    {"introduced": "2.0.0"},
                    {"fixed": "2.0.6"},
                    {"introduced": "0"},
                    {"fixed": "1.26.17"},
                ],
                name="urllib3",
            ),
            entry([{"introduced": "0"}, {"fixed": "9.9"}], name="other"),
        ],
        id="PYSEC-2023-192",
        aliases=["CVE-2023-43804", "GHSA-v845-jxx5-vc9f"],
        details="urllib3 is a user-friendly HTTP client library for Python. More text.",
        references=[
            {"type": "FIX", "url": "https://example.org/fix"},
            {"type": "ADVISORY", "url": "https://example.org/adv"},
            {"type": "WEB", "url": "https://example.org/fix"},
        ],
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N"}],
    )
    finding = finding_from_record(record, [record.affected[0]], ecosystems.get("pypi"))
    assert finding.id == "PYSEC-2023-192"
    assert finding.aliases == ("CVE-2023-43804", "GHSA-v845-jxx5-vc9f")
    assert finding.fixed_versions == ("1.26.17", "2.0.6")  # sorted by PEP 440, no GIT commit
    assert finding.references == ("https://example.org/fix", "https://example.org/adv")
    assert finding.summary == "urllib3 is a user-friendly HTTP client library for Python."
    assert finding.severity == "high"
    assert finding.cvss is not None and finding.cvss.score == 8.1
    assert not finding.malicious


def test_summary_prefers_the_summary_field_and_clips() -> None:
    assert summary_of(make_record([], summary="  Short  ")) == "Short"
    assert summary_of(make_record([], details="\n# Heading line\nBody.")) == "Heading line"
    assert summary_of(make_record([], details="\n---\n_-= x =-_\n")) == "_-= x =-_"
    long = summary_of(make_record([], summary="x" * 500))
    assert len(long) == 160 and long.endswith("…")
    assert summary_of(make_record([])) == ""


def test_merge_picks_pysec_then_ghsa_then_cve() -> None:
    findings = [
        Finding("GHSA-aaaa", aliases=("CVE-2023-1",), severity="medium"),
        Finding("PYSEC-2023-1", aliases=("CVE-2023-1", "GHSA-aaaa"), severity="unknown"),
    ]
    (merged,) = merge_by_alias(findings)
    assert merged.id == "PYSEC-2023-1"
    assert merged.aliases == ("CVE-2023-1", "GHSA-aaaa")
    assert merged.severity == "medium"  # the highest known level, not unknown


def test_merge_uses_an_alias_only_cve_when_no_better_id_exists() -> None:
    (merged,) = merge_by_alias(
        [Finding("OSV-1", aliases=("CVE-2020-5",)), Finding("MAL-1", aliases=("OSV-1",))]
    )
    assert merged.id == "CVE-2020-5"
    assert merged.aliases == ("MAL-1", "OSV-1")


def test_merge_is_transitive() -> None:
    findings = [
        Finding("PYSEC-1", aliases=("CVE-1",)),
        Finding("GHSA-1", aliases=("CVE-1", "CVE-2")),
        Finding("OSV-9", aliases=("CVE-2",)),
        Finding("GHSA-2"),
    ]
    merged = merge_by_alias(findings)
    assert sorted((f.id, f.aliases) for f in merged) == [
        ("GHSA-2", ()),
        ("PYSEC-1", ("CVE-1", "CVE-2", "GHSA-1", "OSV-9")),
    ]


def test_merge_unions_and_chooses_the_worst() -> None:
    low = Cvss("3.1", "CVSS:3.1/low", 3.1)
    crit = Cvss("3.1", V31_CRITICAL, 10.0)
    pysec = Finding(
        "PYSEC-1",
        aliases=("GHSA-1",),
        severity="low",
        cvss=low,
        fixed_versions=("1.10", "1.2"),
        references=("https://a", "https://b"),
        summary="pysec summary",
    )
    ghsa = Finding(
        "GHSA-1",
        severity="critical",
        cvss=crit,
        fixed_versions=("1.9",),
        references=("https://b", "https://c"),
        summary="ghsa summary",
    )
    findings = [pysec, ghsa]
    (merged,) = merge_by_alias(findings, sort_versions=version_sorter(ecosystems.get("pypi")))
    assert merged.severity == "critical"
    assert merged.cvss == crit
    assert merged.fixed_versions == ("1.2", "1.9", "1.10")
    assert merged.references == ("https://a", "https://b", "https://c")
    assert merged.summary == "pysec summary"


def test_merge_keeps_a_cvss_even_from_a_lower_rated_member() -> None:
    cvss = Cvss("3.1", "v", 5.0)
    (merged,) = merge_by_alias(
        [
            Finding("GHSA-1", aliases=("PYSEC-1",), severity="high"),
            Finding("PYSEC-1", severity="medium", cvss=cvss),
        ]
    )
    assert (merged.severity, merged.cvss) == ("high", cvss)


def test_malicious_wins_and_the_group_id_follows_the_order() -> None:
    # MAL-2022-2 carries a GHSA malware alias that we hold no record for.
    findings = [
        Finding("MAL-2022-2", aliases=("GHSA-qqfx-rpxc-ghp4",), severity="critical", malicious=True)
    ]
    (merged,) = merge_by_alias(findings)
    assert merged.id == "GHSA-qqfx-rpxc-ghp4"
    assert merged.aliases == ("MAL-2022-2",)
    assert merged.malicious and merged.severity == "critical"


def test_own_ids_beat_alias_only_ids_of_the_same_rank() -> None:
    (merged,) = merge_by_alias([Finding("GHSA-zzzz", aliases=("GHSA-aaaa",))])
    assert merged.id == "GHSA-zzzz"


def test_findings_of_different_packages_are_not_merged() -> None:
    findings = [
        Finding("CVE-1", package="libssl", package_version="1"),
        Finding("CVE-1", package="libcrypto", package_version="1"),
        Finding("CVE-1", package="libssl", package_version="1"),
    ]
    merged = merge_by_alias(findings)
    assert [(f.id, f.package) for f in merged] == [("CVE-1", "libcrypto"), ("CVE-1", "libssl")]


def test_merge_orders_worst_first_then_by_id() -> None:
    merged = merge_by_alias(
        [
            Finding("B", severity="low"),
            Finding("A", severity="unknown"),
            Finding("C", severity="critical"),
            Finding("D", severity="low"),
        ]
    )
    assert [f.id for f in merged] == ["C", "B", "D", "A"]


IDS = st.sampled_from(["PYSEC-1", "GHSA-1", "CVE-1", "MAL-1", "OSV-1", "CVE-2"])


@given(st.lists(st.tuples(IDS, st.lists(IDS, max_size=3)), max_size=8))
def test_property_merge_partitions_ids(pairs: list[tuple[str, list[str]]]) -> None:
    findings = [Finding(i, aliases=tuple(a)) for i, a in pairs]
    merged = merge_by_alias(findings)
    ids_in = {x for f in findings for x in f.all_ids}
    ids_out = [x for f in merged for x in f.all_ids]
    assert sorted(ids_out) == sorted(ids_in)  # every id exactly once
    assert merge_by_alias(merged) == merged  # idempotent


def test_severity_counts_and_worst() -> None:
    findings = [
        Finding("a", severity="high"),
        Finding("b", severity="high"),
        Finding("c", severity="unknown"),
    ]
    assert severity_counts(findings) == {
        "critical": 0,
        "high": 2,
        "medium": 0,
        "low": 0,
        "unknown": 1,
    }
    assert severity_counts([]) == {"critical": 0, "high": 0, "medium": 0, "low": 0, "unknown": 0}
    assert worst_severity(findings) == "high"
    assert worst_severity([Finding("x")]) == "unknown"
    assert worst_severity([]) is None


def test_to_dict_is_the_api_shape() -> None:
    cvss = Cvss("3.1", V31_CRITICAL, 10.0)
    f = Finding("GHSA-1", ("CVE-1",), "s", "critical", cvss, ("2.0",), ("https://a",), False)
    assert f.to_dict() == {
        "id": "GHSA-1",
        "aliases": ["CVE-1"],
        "summary": "s",
        "severity": "critical",
        "cvss": {"version": "3.1", "vector": V31_CRITICAL, "score": 10.0},
        "fixed_versions": ["2.0"],
        "references": ["https://a"],
        "malicious": False,
    }
    assert Finding("x", package="p", package_version="1").to_dict()["package"] == "p"


def test_version_sorter_puts_unparseable_versions_last() -> None:
    sort = version_sorter(ecosystems.get("pypi"))
    assert sort(["2.0", "not/a/version", "1.10", "1.9", "2.0"]) == (
        "1.9",
        "1.10",
        "2.0",
        "not/a/version",
    )


@pytest.mark.parametrize("name", ["Demo", "demo", "DEMO"])
def test_findings_for_version_end_to_end(name: str) -> None:
    records = [
        make_record([entry([{"introduced": "0"}, {"fixed": "2.0"}], name="demo")],
                    id="PYSEC-2024-1", aliases=["GHSA-1111", "CVE-2024-1"]),
        make_record([entry([{"introduced": "0"}, {"fixed": "2.1"}], name="demo")],
                    id="GHSA-1111", aliases=["CVE-2024-1"], database_specific={"severity": "HIGH"}),
        make_record([entry([{"introduced": "0"}], name="demo")], id="MAL-2024-1",
                    withdrawn="2024-05-01T00:00:00Z"),
        make_record([entry([{"introduced": "3.0"}], name="demo")], id="PYSEC-2024-2"),
    ]  # fmt: skip
    (finding,) = findings_for_version(records, ecosystems.get("pypi"), name, "1.5")
    assert finding.id == "PYSEC-2024-1"
    assert finding.aliases == ("CVE-2024-1", "GHSA-1111")
    assert finding.severity == "high"
    assert finding.fixed_versions == ("2.0", "2.1")
    assert findings_for_version(records, ecosystems.get("pypi"), name, "2.5") == []
