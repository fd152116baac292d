"""The gate's verdicts and exit decision: what makes `foss check` fail."""

from __future__ import annotations

from typing import Any

import pytest

from foss_registry.gate import (
    GateOptions,
    is_failure,
    reaches_severity,
    summary_line,
    tally,
    verdict,
)

STRICT = GateOptions()


def answer(status: str, **counts: int) -> dict[str, Any]:
    severity = {"critical": 0, "high": 0, "medium": 0, "low": 0, "unknown": 0} | counts
    return {"status": status, "severity": severity if status != "unknown" else None}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("approved", "approved"),
        ("pending", "pending"),
        ("rejected", "rejected"),
        ("unknown", "unknown"),
    ],
)
def test_a_pinned_dependency_takes_its_registry_status(status: str, expected: str) -> None:
    assert verdict(answer(status), pinned=True, options=STRICT) == expected


def test_an_unpinned_dependency_is_unpinned_whatever_the_registry_says() -> None:
    assert verdict(answer("unknown"), pinned=False, options=STRICT) == "unpinned"


def test_only_approved_passes_by_default() -> None:
    assert not is_failure("approved", STRICT)
    for name in ("pending", "rejected", "unknown", "unpinned", "vulnerable"):
        assert is_failure(name, STRICT), name


def test_allow_pending_lets_pending_pass_and_nothing_else() -> None:
    lenient = GateOptions(allow_pending=True)
    assert not is_failure("pending", lenient)
    for name in ("rejected", "unknown", "unpinned", "vulnerable"):
        assert is_failure(name, lenient), name


def test_fail_on_severity_turns_an_approved_version_with_findings_into_vulnerable() -> None:
    high = GateOptions(fail_on_severity="high")
    assert verdict(answer("approved", high=1), pinned=True, options=high) == "vulnerable"
    assert verdict(answer("approved", critical=2), pinned=True, options=high) == "vulnerable"
    assert verdict(answer("approved", medium=5), pinned=True, options=high) == "approved"
    # Without the option, findings alone never fail an approved version.
    assert verdict(answer("approved", critical=1), pinned=True, options=STRICT) == "approved"


def test_unknown_severity_fails_at_any_threshold() -> None:
    assert reaches_severity({"unknown": 1}, "critical")
    assert reaches_severity({"high": 1, "unknown": 1}, "critical")
    assert not reaches_severity({"high": 1}, "critical")
    assert not reaches_severity(None, "low")


def test_a_rejected_version_stays_rejected_even_with_findings() -> None:
    options = GateOptions(fail_on_severity="low")
    assert verdict(answer("rejected", low=1), pinned=True, options=options) == "rejected"


def test_tally_and_summary_line() -> None:
    summary = tally(
        ["approved", "approved", "pending", "unpinned"], GateOptions(allow_pending=True)
    )
    assert summary["total"] == 4
    assert summary["failing"] == 1
    assert summary["result"] == "failed"
    line = summary_line(summary)
    assert line.startswith("4 dependencies: 2 approved, 1 pending, 1 unpinned.")
    assert line.endswith("Check failed: 1 not allowed.")
    passed = tally(["approved"], STRICT)
    assert summary_line(passed) == "1 dependency: 1 approved. Check passed."
    assert summary_line(tally([], STRICT)) == "0 dependencies: nothing to check. Check passed."


def approved_with(*findings: dict[str, Any], flags: tuple[str, ...] = ()) -> dict[str, Any]:
    return answer("approved") | {"findings": list(findings), "flags": list(flags)}


def finding(severity: str, **state: bool) -> dict[str, Any]:
    return (
        {"id": f"GHSA-{severity}", "aliases": [], "severity": severity}
        | {
            "acknowledged": False,
            "triaged": False,
        }
        | state
    )


def test_an_approved_version_with_an_open_high_finding_fails_by_default() -> None:
    for level in ("high", "critical"):
        assert verdict(approved_with(finding(level)), pinned=True, options=STRICT) == "vulnerable"
    for level in ("medium", "low", "unknown"):
        assert verdict(approved_with(finding(level)), pinned=True, options=STRICT) == "approved"


def test_acknowledged_or_triaged_findings_pass_unless_flagged() -> None:
    acknowledged = approved_with(finding("critical", acknowledged=True))
    triaged = approved_with(finding("high", triaged=True))
    assert verdict(acknowledged, pinned=True, options=STRICT) == "approved"
    assert verdict(triaged, pinned=True, options=STRICT) == "approved"
    for flag in ("new_vulnerability", "malicious"):
        flagged = approved_with(finding("critical", acknowledged=True), flags=(flag,))
        assert verdict(flagged, pinned=True, options=STRICT) == "vulnerable"
    other = approved_with(flags=("license_rejected",))
    assert verdict(other, pinned=True, options=STRICT) == "approved"


def test_fail_on_severity_keeps_its_meaning_over_acknowledgements() -> None:
    acknowledged = approved_with(finding("critical", acknowledged=True)) | {
        "severity": answer("approved", critical=1)["severity"]
    }
    critical = GateOptions(fail_on_severity="critical")
    assert verdict(acknowledged, pinned=True, options=critical) == "vulnerable"
    pending = answer("pending") | {"findings": [finding("critical")]}
    assert verdict(pending, pinned=True, options=STRICT) == "pending"
