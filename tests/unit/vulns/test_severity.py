"""Severity levels from CVSS vectors, database ratings and malware flags; thresholds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foss_registry.vulns.osv import Severity
from foss_registry.vulns.severity import (
    LEVELS,
    Cvss,
    best_cvss,
    fails,
    is_malicious,
    level_from_score,
    normalize_level,
    parse_cvss,
    record_severity,
    worst_level,
)

from .builders import entry, make_record

V31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"  # 10.0
V30_HIGH = "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"  # 7.5
V2_HIGH = "AV:N/AC:L/Au:N/C:P/I:P/A:P"  # 7.5
V4_MEDIUM = "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"  # 5.1
V31_NONE = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"  # 0.0


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0.0, "low"),
        (0.1, "low"),
        (3.9, "low"),
        (4.0, "medium"),
        (6.9, "medium"),
        (7.0, "high"),
        (8.9, "high"),
        (9.0, "critical"),
        (10.0, "critical"),
    ],
)
def test_score_bands(score: float, level: str) -> None:
    assert level_from_score(score) == level


@pytest.mark.parametrize(
    ("vector", "kind", "expected"),
    [
        (V31_CRITICAL, "CVSS_V3", Cvss("3.1", V31_CRITICAL, 10.0)),
        (V30_HIGH, None, Cvss("3.0", V30_HIGH, 7.5)),
        (V2_HIGH, "CVSS_V2", Cvss("2.0", V2_HIGH, 7.5)),
        (V4_MEDIUM, "CVSS_V4", Cvss("4.0", V4_MEDIUM, 5.1)),
        (V31_NONE, "CVSS_V3", Cvss("3.1", V31_NONE, 0.0)),
    ],
)
def test_parse_cvss_scores_each_version(vector: str, kind: str | None, expected: Cvss) -> None:
    assert parse_cvss(vector, kind) == expected


@pytest.mark.parametrize(
    ("vector", "kind"),
    [
        ("", None),
        ("garbage", None),
        ("CVSS:3.1/AV:N", "CVSS_V3"),  # missing metrics
        ("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", None),  # bad value
        ("CVSS:4.0/AV:N", None),
        ("CVSS:9.9/AV:N", None),
        (V31_CRITICAL, "CVSS_V2"),  # type and vector disagree
        ("AV:N/AC:L", "CVSS_V2"),
    ],
)
def test_bad_vectors_give_none(vector: str, kind: str | None) -> None:
    assert parse_cvss(vector, kind) is None


@given(st.text(max_size=80))
def test_parse_cvss_never_raises(text: str) -> None:
    result = parse_cvss(text)
    assert result is None or 0.0 <= result.score <= 10.0
    parse_cvss("CVSS:3.1/" + text)
    parse_cvss("CVSS:4.0/" + text)


def test_best_cvss_prefers_the_newest_version_that_parses() -> None:
    items = [
        Severity("CVSS_V2", V2_HIGH),
        Severity("CVSS_V3", V30_HIGH),
        Severity("CVSS_V4", "CVSS:4.0/broken"),
        Severity("Ubuntu", "high"),
    ]
    assert best_cvss(items) == Cvss("3.0", V30_HIGH, 7.5)
    assert best_cvss([*items, Severity("CVSS_V4", V4_MEDIUM)]) == Cvss("4.0", V4_MEDIUM, 5.1)


def test_cvss_decides_the_level_over_the_database_word() -> None:
    record = make_record(
        [],
        severity=[{"type": "CVSS_V3", "score": V31_CRITICAL}],
        database_specific={"severity": "LOW"},
    )
    info = record_severity(record)
    assert (info.level, info.cvss, info.malicious) == (
        "critical",
        Cvss("3.1", V31_CRITICAL, 10.0),
        False,
    )
    assert info.cvss is not None and info.cvss.as_dict() == {
        "version": "3.1",
        "vector": V31_CRITICAL,
        "score": 10.0,
    }


@pytest.mark.parametrize(
    ("word", "level"),
    [
        ("LOW", "low"),
        ("MODERATE", "medium"),
        ("HIGH", "high"),
        ("CRITICAL", "critical"),
        ("weird", "unknown"),
    ],
)
def test_ghsa_database_severity_is_the_fallback(word: str, level: str) -> None:
    record = make_record([], database_specific={"severity": word})
    assert record_severity(record).level == level
    assert record_severity(record).cvss is None


def test_a_bad_vector_falls_back_to_the_database_word() -> None:
    record = make_record(
        [],
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/nonsense"}],
        database_specific={"severity": "MODERATE"},
    )
    assert record_severity(record).level == "medium"


def test_no_rating_is_unknown() -> None:
    assert record_severity(make_record([])).level == "unknown"
    assert record_severity(make_record([], database_specific={"severity": 5})).level == "unknown"


def test_per_package_severity_is_used_when_the_record_has_none() -> None:
    rated = entry([{"introduced": "0"}], name="a")
    rated["severity"] = [{"type": "CVSS_V3", "score": V30_HIGH}]
    record = make_record([rated, entry([{"introduced": "0"}], name="b")])
    assert record_severity(record).level == "high"
    assert record_severity(record, [record.affected[1]]).level == "unknown"


def test_ubuntu_priority_is_a_last_resort() -> None:
    record = make_record([], severity=[{"type": "Ubuntu", "score": "medium"}])
    assert record_severity(record).level == "medium"


@pytest.mark.parametrize(
    ("record_id", "database_specific", "expected"),
    [
        ("MAL-2024-1", None, True),
        ("mal-2024-1", None, True),
        ("GHSA-xxxx-xxxx-xxxx", {"malicious-packages-origins": [{"source": "ghsa-malware"}]}, True),
        ("GHSA-xxxx-xxxx-xxxx", {"severity": "HIGH"}, False),
        ("PYSEC-2024-1", None, False),
    ],
)
def test_malicious_detection(
    record_id: str, database_specific: dict[str, object] | None, expected: bool
) -> None:
    kwargs = {"database_specific": database_specific} if database_specific else {}
    record = make_record([], id=record_id, **kwargs)
    assert is_malicious(record) is expected
    info = record_severity(record)
    assert info.malicious is expected
    if expected:
        assert info.level == "critical"


def test_normalize_level_words() -> None:
    assert normalize_level("Negligible") == "low"
    assert normalize_level(" Important ") == "high"
    assert normalize_level(None) == "unknown"
    assert normalize_level("") == "unknown"


def test_worst_level_ignores_unknown_unless_alone() -> None:
    assert worst_level(["low", "unknown", "high", "medium"]) == "high"
    assert worst_level(["unknown"]) == "unknown"
    assert worst_level([]) == "unknown"
    assert LEVELS == ("critical", "high", "medium", "low", "unknown")


@pytest.mark.parametrize(
    ("level", "threshold", "expected"),
    [
        ("critical", "critical", True),
        ("high", "critical", False),
        ("high", "high", True),
        ("medium", "high", False),
        ("medium", "medium", True),
        ("low", "medium", False),
        ("low", "low", True),
        ("unknown", "critical", True),  # DESIGN: unknown fails at any threshold
        ("unknown", "low", True),
    ],
)
def test_fails(level: str, threshold: str, expected: bool) -> None:
    assert fails(level, threshold) is expected


def test_fails_rejects_a_bad_threshold() -> None:
    with pytest.raises(ValueError, match="threshold"):
        fails("high", "severe")
