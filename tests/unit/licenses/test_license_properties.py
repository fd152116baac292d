"""Properties of expression handling and compatibility over generated expressions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from foss_registry.errors import InvalidInputError
from foss_registry.licenses import (
    LicenseAnd,
    LicenseExpression,
    LicenseOr,
    check_compatibility,
    normalize_declared,
    parse_expression,
    parse_submitted,
    render,
)

ATOMS = [
    "MIT",
    "Apache-2.0",
    "BSD-3-Clause",
    "ISC",
    "CC0-1.0",
    "GPL-2.0-only",
    "GPL-3.0-only",
    "GPL-3.0",
    "LGPL-2.1-or-later",
    "MPL-2.0",
    "EPL-2.0",
    "CDDL-1.0",
    "AGPL-3.0-only",
    "SSPL-1.0",
    "CC-BY-NC-4.0",
    "BUSL-1.1",
    "LicenseRef-custom",
    "Apache-2.0+",
    "GPL-2.0-or-later WITH Classpath-exception-2.0",
    "GPL-2.0-only WITH Classpath-exception-2.0",
]
OUTBOUNDS = [
    "MIT",
    "Apache-2.0",
    "GPL-2.0-only",
    "GPL-3.0-only",
    "LGPL-2.1-only",
    "AGPL-3.0-or-later",
    "GPL-2.0-only WITH Classpath-exception-2.0",
    "SSPL-1.0",
]
RANK = {"no": 0, "unknown": 1, "yes": 2}

terms = st.sampled_from(ATOMS).map(parse_expression)


def _compound(children: st.SearchStrategy[LicenseExpression]) -> st.SearchStrategy:
    groups = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.builds(LicenseAnd, groups) | st.builds(LicenseOr, groups)


expressions = st.recursive(terms, _compound, max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(expressions)
def test_normalising_is_idempotent(expr: LicenseExpression) -> None:
    once = parse_submitted(render(expr))
    assert parse_submitted(once) == once
    assert normalize_declared(once).expression == once


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(OUTBOUNDS), expressions)
def test_or_is_the_best_and_and_the_worst_of_its_terms(
    outbound: str, expr: LicenseExpression
) -> None:
    result = check_compatibility(outbound, render(expr))
    assert result.reasons
    if isinstance(expr, LicenseOr | LicenseAnd):
        parts = [RANK[check_compatibility(outbound, render(t)).answer.value] for t in expr.terms]
        rank = RANK[result.answer.value]
        if isinstance(expr, LicenseOr):
            # Never worse than any option, and exactly as good as the best one.
            assert all(rank >= part for part in parts)
            assert rank == max(parts)
        else:
            # Never better than any term, and exactly as bad as the worst one.
            assert all(rank <= part for part in parts)
            assert rank == min(parts)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_declared_text_never_raises_and_is_kept(text: str) -> None:
    declared = normalize_declared(text)
    assert declared.verbatim == text
    assert declared.known == (declared.expression is not None)
    if declared.known:
        assert declared.expression is not None
        assert parse_submitted(declared.expression) == declared.expression


TOKENS = [
    "MIT",
    "AND",
    "OR",
    "WITH",
    "and",
    "or",
    "with",
    "(",
    ")",
    "( )",
    "+",
    ":",
    "/",
    ",",
    "Apache-2.0",
    "Classpath-exception-2.0",
    "LicenseRef-x",
    "DocumentRef-a:",
    "GPL-2.0",
    "License ::",
    "license",
    "BSD",
    "Apache 2.0",
    "NOASSERTION",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=7).map(" ".join))
def test_token_soup_is_either_valid_or_a_clean_400(text: str) -> None:
    try:
        normalised = parse_submitted(text)
    except InvalidInputError as exc:
        assert exc.code == "invalid_license"
        assert exc.errors and exc.errors[0].field == "license"
        assert not normalize_declared(text).known
    else:
        assert parse_submitted(normalised) == normalised
        assert normalize_declared(text).expression == normalised
