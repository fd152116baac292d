"""The gate's verdicts and exit decision: what makes `foss check` fail."""

from __future__ import annotations

from typing import Any

import pytest

from foss_registry.checks.gate import (
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
