"""The automatic decision: malware, license policy, auto-approve and the scan."""

from __future__ import annotations

import pytest

from foss_registry.policy import (
    FLAG_LICENSE_REJECTED,
    FLAG_MALICIOUS,
    NO_LICENSE_REASON,
    Decision,
    LicenseEvaluation,
    LicensePolicy,
    PolicyDecision,
    ScanStatus,
    ScanSummary,
    decide,
    default_policy,
    evaluate_license,
)

PASSED = ScanSummary(ScanStatus.PASSED)
MALICIOUS = ScanSummary(ScanStatus.FAILED, ("MAL-2024-1234", "GHSA-xxxx-yyyy-zzzz"), "critical")


def _eval(expression: str | None) -> LicenseEvaluation:
    return evaluate_license(default_policy(), expression)


@pytest.mark.parametrize("expression", ["MIT", "GPL-3.0-only", "AGPL-3.0-only", None])
@pytest.mark.parametrize("auto_approve", [True, False])
def test_malicious_finding_rejects_whatever_the_license(
    expression: str | None, auto_approve: bool
) -> None:
    result = decide(_eval(expression), MALICIOUS, auto_approve)
    assert result.decision is Decision.REJECT
    assert result.reasons == ("malicious release: MAL-2024-1234, GHSA-xxxx-yyyy-zzzz",)
    assert result.flags == (FLAG_MALICIOUS,)


def test_malicious_finding_rejects_even_a_passed_scan_status() -> None:
    scan = ScanSummary(ScanStatus.PASSED, ("MAL-1",))
    assert decide(_eval("MIT"), scan, True).decision is Decision.REJECT


@pytest.mark.parametrize("auto_approve", [True, False])
@pytest.mark.parametrize(
    "scan", [PASSED, ScanSummary(ScanStatus.PENDING), ScanSummary(ScanStatus.FAILED)]
)
def test_rejected_license_rejects_naming_the_term(auto_approve: bool, scan: ScanSummary) -> None:
    result = decide(_eval("MIT AND AGPL-3.0-only"), scan, auto_approve)
    assert result.decision is Decision.REJECT
    assert result.reasons[0] == "license rejected by policy: AGPL-3.0-only"
    assert "network copyleft" in result.reasons[1]
    assert result.flags == (FLAG_LICENSE_REJECTED,)


def test_auto_approve_with_approved_license_and_passed_scan() -> None:
    result = decide(_eval("MIT OR GPL-3.0-only"), PASSED, True)
    assert result == PolicyDecision(
        Decision.APPROVE,
        ("license MIT OR GPL-3.0-only is approved by policy", "the scan passed"),
    )
    assert result.to_dict() == {
        "decision": "approve",
        "reasons": ["license MIT OR GPL-3.0-only is approved by policy", "the scan passed"],
        "flags": [],
    }


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("failed", "the scan failed (worst severity: high); a reviewer decides"),
        ("error", "the scan ended in an error; a reviewer decides"),
        ("not_scanned", "the version has not been scanned"),
        ("pending", "the scan has not finished yet"),
    ],
)
def test_auto_approve_never_acts_on_a_scan_that_did_not_pass(status: str, reason: str) -> None:
    result = decide(_eval("MIT"), ScanSummary(ScanStatus(status), (), "high"), True)
    assert result.decision is None
    assert result.reasons == (reason,)


def test_auto_approve_off_leaves_it_to_a_reviewer() -> None:
    result = decide(_eval("MIT"), PASSED, False)
    assert result.decision is None
    assert result.reasons == ("auto-approve is off; a reviewer decides",)
    assert result.to_dict()["decision"] is None


def test_no_license_stays_pending() -> None:
    result = decide(_eval(None), PASSED, True)
    assert result.decision is None
    assert result.reasons == (NO_LICENSE_REASON,)


def test_restricted_license_stays_pending_with_every_reason() -> None:
    result = decide(_eval("MIT AND LGPL-2.1-only"), ScanSummary(ScanStatus.FAILED), False)
    assert result.decision is None
    assert result.reasons == (
        "the license needs a reviewer (LGPL-2.1-only: restricted by policy)",
        "the scan failed; a reviewer decides",
        "auto-approve is off; a reviewer decides",
    )


def test_custom_policy_can_auto_approve_copyleft() -> None:
    policy = LicensePolicy.from_dict({"categories": {"weak_copyleft": "approved"}})
    evaluation = evaluate_license(policy, "LGPL-2.1-only")
    assert decide(evaluation, PASSED, True).decision is Decision.APPROVE


def test_after_a_persons_decision_the_policy_only_flags() -> None:
    flagged = decide(_eval("MIT"), MALICIOUS, True, decided_by_person=True)
    assert flagged.decision is None
    assert flagged.flags == (FLAG_MALICIOUS,)
    license_flag = decide(_eval("SSPL-1.0"), PASSED, True, decided_by_person=True)
    assert license_flag.decision is None
    assert license_flag.flags == (FLAG_LICENSE_REJECTED,)
    quiet = decide(_eval("MIT"), PASSED, True, decided_by_person=True)
    assert quiet.decision is None and quiet.flags == ()


def test_scan_summary_accepts_plain_values() -> None:
    scan = ScanSummary("not_scanned", ["MAL-1"])  # type: ignore[arg-type]
    assert scan.status is ScanStatus.NOT_SCANNED
    assert scan.malicious_ids == ("MAL-1",)
    with pytest.raises(ValueError):
        ScanSummary("bogus")  # type: ignore[arg-type]
