"""Properties of policy evaluation over generated policies and expressions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from foss_registry.licenses import (
    Category,
    LicenseAnd,
    LicenseExpression,
    LicenseOr,
    parse_expression,
    render,
)
from foss_registry.policy import (
    Decision,
    LicensePolicy,
    ScanStatus,
    ScanSummary,
    Status,
    decide,
    evaluate_license,
)

ATOMS = [
    "MIT",
    "Apache-2.0",
    "CC0-1.0",
    "LGPL-2.1-only",
    "MPL-2.0",
    "GPL-3.0-only",
    "GPL-2.0-or-later WITH Classpath-exception-2.0",
    "AGPL-3.0-only",
    "SSPL-1.0",
    "CC-BY-NC-4.0",
    "Watcom-1.0",
    "LicenseRef-acme",
    "Buddy",
]
statuses = st.sampled_from(list(Status))
policies = st.builds(
    lambda cats, ids: LicensePolicy.from_dict({"categories": cats, "licenses": ids}),
    st.fixed_dictionaries({c.value: statuses.map(str) for c in Category}),
    st.dictionaries(st.sampled_from(["MIT", "GPL-3.0-only", "LicenseRef-acme"]), statuses.map(str)),
)
terms = st.sampled_from(ATOMS).map(parse_expression)


def _compound(children: st.SearchStrategy[LicenseExpression]) -> st.SearchStrategy:
    groups = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.builds(LicenseAnd, groups) | st.builds(LicenseOr, groups)


expressions = st.recursive(terms, _compound, max_leaves=6)


@settings(max_examples=200, deadline=None)
@given(policies, expressions)
def test_or_is_never_stricter_and_and_never_laxer_than_a_term(
    policy: LicensePolicy, expr: LicenseExpression
) -> None:
    evaluation = evaluate_license(policy, render(expr))
    assert evaluation.reasons
    assert evaluation.decisive_terms
    if isinstance(expr, LicenseOr | LicenseAnd):
        parts = [evaluate_license(policy, render(t)).status.rank for t in expr.terms]
        rank = evaluation.status.rank
        if isinstance(expr, LicenseOr):
            assert all(rank <= part for part in parts)
            assert rank == min(parts)
        else:
            assert all(rank >= part for part in parts)
            assert rank == max(parts)
    assert all(t.status is evaluation.status for t in evaluation.decisive_terms)


@settings(max_examples=120, deadline=None)
@given(
    policies,
    expressions,
    st.sampled_from(list(ScanStatus)),
    st.lists(st.sampled_from(["MAL-1", "MAL-2"]), max_size=2),
    st.booleans(),
)
def test_decision_rules(
    policy: LicensePolicy,
    expr: LicenseExpression,
    scan_status: ScanStatus,
    malicious: list[str],
    auto_approve: bool,
) -> None:
    evaluation = evaluate_license(policy, render(expr))
    result = decide(evaluation, ScanSummary(scan_status, tuple(malicious)), auto_approve)
    assert result.reasons
    if malicious or evaluation.status is Status.REJECTED:
        assert result.decision is Decision.REJECT
    elif auto_approve and evaluation.status is Status.APPROVED and scan_status is ScanStatus.PASSED:
        assert result.decision is Decision.APPROVE
    else:
        assert result.decision is None
    if result.decision is Decision.APPROVE:
        assert scan_status is ScanStatus.PASSED and auto_approve
