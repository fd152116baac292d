"""Each risk signal as a pure function, and the policy's [signals] table."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from foss_registry.errors import InvalidInputError
from foss_registry.signals.rules import (
    CODES,
    DEFAULT_LEVELS,
    SignalPolicy,
    VersionFacts,
    compute,
    license_from_upstream,
    license_mismatch,
    no_repository,
    not_found_upstream,
    sdist_only,
    too_new,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BASE = VersionFacts(
    ecosystem="pypi", name="demo", version="1.0", status="ok", submitted_license="MIT",
    upstream_license_raw="MIT", upstream_license="MIT", released_at=NOW - timedelta(days=30),
    file_kinds=("wheel", "sdist"), repository="https://git.example.internal/demo",
)


def test_a_clean_version_has_no_signals() -> None:
    assert compute(BASE, SignalPolicy(), NOW) == []


@pytest.mark.parametrize(
    ("submitted", "upstream", "mismatch"),
    [
        ("MIT", "MIT", False),
        ("MIT OR Apache-2.0", "Apache-2.0 OR MIT", False),
        ("MIT AND (BSD-3-Clause OR ISC)", "(ISC OR BSD-3-Clause) AND MIT", False),
        ("MIT", "Apache-2.0", True),
        ("MIT OR Apache-2.0", "MIT AND Apache-2.0", True),
        ("GPL-2.0-only", "GPL-2.0-or-later", True),
    ],
)
def test_license_mismatch_compares_expressions_not_strings(submitted: str, upstream: str, mismatch: bool) -> None:
    facts = replace(BASE, submitted_license=submitted, upstream_license=upstream, upstream_license_raw=upstream)
    message = license_mismatch(facts)
    assert (message is not None) == mismatch
    if mismatch:
        assert submitted in message and upstream in message


def test_license_mismatch_with_a_free_text_upstream_license() -> None:
    facts = replace(BASE, upstream_license=None, upstream_license_raw="BSD")
    assert "'BSD', which is not an SPDX expression" in license_mismatch(facts)
    assert license_mismatch(replace(BASE, status="not_found")) is None
    assert license_mismatch(replace(BASE, upstream_license=None, upstream_license_raw=None)) is None


def test_license_from_upstream() -> None:
    facts = replace(BASE, submitted_license=None, license_from_upstream=True)
    assert license_from_upstream(facts) == "no license was submitted; upstream declares MIT, used here"
    assert license_mismatch(facts) is None
    odd = replace(facts, upstream_license=None, upstream_license_raw="Free for all")
    assert "kept as an unknown license" in license_from_upstream(odd)
    assert license_from_upstream(BASE) is None


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(minutes=20), "released 20 minutes ago"),
        (timedelta(hours=5), "released 5 hours ago"),
        (timedelta(days=1, hours=23), "released 47 hours ago"),
        (timedelta(days=2, hours=1), "released 2 days ago"),
        (timedelta(days=3), None),
        (timedelta(days=400), None),
    ],
)
def test_too_new_against_the_minimum_age(age: timedelta, expected: str | None) -> None:
    message = too_new(replace(BASE, released_at=NOW - age), NOW, 3)
    if expected is None:
        assert message is None
    else:
        assert message.startswith(expected) and "minimum of 3 days" in message


def test_too_new_needs_a_release_time_and_a_minimum() -> None:
    assert too_new(replace(BASE, released_at=None), NOW, 3) is None
    assert too_new(replace(BASE, released_at=NOW), NOW, 0) is None


def test_every_other_signal() -> None:
    facts = replace(
        BASE,
        yanked=True,
        yanked_reason="broken",
        deprecated="use demo2",
        install_scripts=(("postinstall", "node x.js"),),
        file_kinds=("sdist",),
        repository=None,
        typosquat="the name 'demo' imitates 'dem0'",
    )
    signals = {s.code: s for s in compute(facts, SignalPolicy(), NOW)}
    assert set(signals) == {"yanked", "deprecated", "install_scripts", "sdist_only", "typosquat", "no_repository"}
    assert signals["yanked"].message == "upstream has yanked this version (reason: broken); installers skip it unless pinned"
    assert signals["deprecated"].message == "upstream marks this version deprecated: use demo2"
    assert signals["install_scripts"].message == "runs code when installed (postinstall: node x.js)"
    assert {c: s.level for c, s in signals.items()} == {
        "yanked": "review", "deprecated": "info", "install_scripts": "review",
        "sdist_only": "info", "typosquat": "review", "no_repository": "info",
    }


def test_sdist_only_is_pypi_only_and_needs_files() -> None:
    assert sdist_only(replace(BASE, file_kinds=("sdist",))) is not None
    assert sdist_only(replace(BASE, file_kinds=())) is None
    assert sdist_only(replace(BASE, ecosystem="npm", file_kinds=("tarball",))) is None


def test_no_repository_counts_the_submitted_one() -> None:
    assert no_repository(replace(BASE, repository=None)) is not None
    assert no_repository(replace(BASE, repository=None, submitted_repository="https://x.example.internal")) is None
    assert no_repository(replace(BASE, repository=None, status="unavailable")) is None


def test_not_found_upstream_names_the_risk() -> None:
    message = not_found_upstream(replace(BASE, status="not_found", source="https://mirror.example.internal/simple/demo/"))
    assert "dependency confusion" in message and "https://mirror.example.internal/simple/demo/" in message
    assert not_found_upstream(BASE) is None
    signals = compute(replace(BASE, status="not_found"), SignalPolicy(), NOW)
    assert [(s.code, s.level) for s in signals] == [("not_found_upstream", "review")]


def test_unavailable_gives_only_name_signals() -> None:
    facts = VersionFacts(ecosystem="npm", name="x", version="1.0.0", status="unavailable", typosquat="t")
    assert [s.code for s in compute(facts, SignalPolicy(), NOW)] == ["typosquat"]


def test_signal_policy_levels_and_defaults() -> None:
    policy = SignalPolicy.from_dict({"min_release_age_days": 7, "typosquat": "block", "sdist_only": "review"})
    assert policy.min_release_age_days == 7
    assert policy.level("typosquat") == "block" and policy.level("sdist_only") == "review"
    assert policy.level("yanked") == DEFAULT_LEVELS["yanked"] == "review"
    assert set(policy.to_dict()) == {"min_release_age_days", *CODES}
    assert SignalPolicy.from_dict(policy.to_dict()) == policy
    assert SignalPolicy.from_dict(None) == SignalPolicy()


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"typosquat": "explode"}, "signals.typosquat"),
        ({"not_a_code": "info"}, "signals.not_a_code"),
        ({"min_release_age_days": -1}, "signals.min_release_age_days"),
        ({"min_release_age_days": True}, "signals.min_release_age_days"),
        ({"min_release_age_days": "3"}, "signals.min_release_age_days"),
    ],
)
def test_signal_policy_refuses_bad_tables(table: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        SignalPolicy.from_dict(table)
    assert [e.field for e in caught.value.errors] == [field]
