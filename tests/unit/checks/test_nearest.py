"""The nearest approved version and the worst severity, on real ecosystem orderings."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from foss_registry import ecosystems
from foss_registry.checks.service import ApprovedVersion, nearest_approved, worst_severity


def approved(ecosystem: str, *versions: str) -> list[ApprovedVersion]:
    eco = ecosystems.get(ecosystem)
    return [ApprovedVersion(eco.sort_token(v), i, v) for i, v in enumerate(versions, 1)]


def token(ecosystem: str, version: str) -> str:
    return ecosystems.get(ecosystem).sort_token(version)


def test_prefers_the_highest_approved_version_at_or_below_the_requested_one() -> None:
    choices = approved("pypi", "2.0.0", "2.3.0", "3.0.0")
    assert nearest_approved(token("pypi", "2.5"), choices) == "2.3.0"
    assert nearest_approved(token("pypi", "2.3"), choices) == "2.3.0"
    assert nearest_approved(token("pypi", "9"), choices) == "3.0.0"


def test_falls_back_to_the_lowest_approved_version_above() -> None:
    choices = approved("pypi", "3.0.0", "2.0.0", "2.3.0")
    assert nearest_approved(token("pypi", "1.0"), choices) == "2.0.0"


def test_orders_by_the_ecosystem_not_by_text() -> None:
    # As text "2.10.0" < "2.9.0"; by PEP 440 and SemVer it is the higher one.
    assert nearest_approved(token("pypi", "2.11"), approved("pypi", "2.9.0", "2.10.0")) == "2.10.0"
    npm = approved("npm", "1.0.0-rc.1", "1.0.0", "1.2.0")
    assert nearest_approved(token("npm", "1.1.0"), npm) == "1.0.0"
    assert nearest_approved(token("npm", "1.0.0-rc.2"), npm) == "1.0.0-rc.1"
    maven = approved("maven", "2.14.1", "2.17.1", "2.17.0")
    assert nearest_approved(token("maven", "2.17.0.1"), maven) == "2.17.0"


def test_no_version_or_an_invalid_one_suggests_the_highest_approved() -> None:
    assert nearest_approved(None, approved("pypi", "1.0", "3.1", "2.0")) == "3.1"


def test_nothing_approved_means_no_suggestion() -> None:
    assert nearest_approved(token("pypi", "1.0"), []) is None
    assert nearest_approved(None, []) is None


def test_docker_tags_that_are_not_versions_fall_back_to_the_latest_submitted() -> None:
    choices = approved("docker", "stable", "bookworm")
    assert nearest_approved(token("docker", "latest"), choices) == "bookworm"
    # A version tag is above every non-version tag.
    assert nearest_approved(token("docker", "1.25"), approved("docker", "1.24", "edge")) == "1.24"


@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=12, unique=True
    ),
    st.tuples(st.integers(0, 30), st.integers(0, 30)),
)
def test_the_suggestion_is_always_approved_and_never_skips_a_closer_one_below(
    versions: list[tuple[int, int]], requested: tuple[int, int]
) -> None:
    texts = [f"{a}.{b}" for a, b in versions]
    choices = approved("pypi", *texts)
    chosen = nearest_approved(token("pypi", f"{requested[0]}.{requested[1]}"), choices)
    assert chosen in texts
    below = [v for v in versions if v <= requested]
    if below:
        assert chosen == "{}.{}".format(*max(below))
    else:
        assert chosen == "{}.{}".format(*min(versions))


def test_worst_severity_names_the_worst_level_with_a_finding() -> None:
    assert worst_severity(None) is None
    assert worst_severity({"critical": 0, "high": 0, "medium": 0, "low": 0, "unknown": 0}) is None
    assert worst_severity({"critical": 0, "high": 2, "medium": 1, "low": 0, "unknown": 3}) == "high"
    assert (
        worst_severity({"critical": 0, "high": 0, "medium": 0, "low": 0, "unknown": 1}) == "unknown"
    )
    assert worst_severity({"critical": 1, "low": 4}) == "critical"
