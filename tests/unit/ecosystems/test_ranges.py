"""Version ranges in each ecosystem's own syntax: validation, normal form, membership."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foss_registry import ecosystems
from foss_registry.ecosystems.base import InvalidRangeError

NPM_TABLE = Path(__file__).resolve().parents[2] / "fixtures" / "npm_ranges.json"


def _table() -> list[tuple[str, str, bool]]:
    data = json.loads(NPM_TABLE.read_text())
    return [
        (range_text, version, version in included)
        for range_text, included in data["included"].items()
        for version in data["versions"]
    ]


@pytest.mark.parametrize(("range_text", "version", "expected"), _table())
def test_npm_ranges_answer_as_node_semver_does(
    range_text: str, version: str, expected: bool
) -> None:
    npm = ecosystems.get("npm")
    assert npm.in_range(npm.normalize_range(range_text), version) is expected


def test_npm_ranges_are_shown_desugared() -> None:
    npm = ecosystems.get("npm")
    assert npm.normalize_range("^4.17.0") == ">=4.17.0 <5.0.0"
    assert npm.normalize_range("~1.2") == ">=1.2.0 <1.3.0"
    assert npm.normalize_range("*") == "*"
    # A leading v on the version, as npm accepts it.
    assert npm.in_range(">=4.17.0 <5.0.0", "v4.17.21")


@pytest.mark.parametrize(
    ("range_text", "normal", "inside", "outside"),
    [
        (">=4.2, <4.3", "<4.3,>=4.2", ["4.2", "4.2.12"], ["4.3", "4.1.9", "4.3rc1"]),
        ("~=4.2.0", "~=4.2.0", ["4.2.0", "4.2.11"], ["4.3.0"]),
        ("==4.2.*", "==4.2.*", ["4.2.0", "4.2.99"], ["4.20.0"]),
        (">=1.0rc1,<2", "<2,>=1.0rc1", ["1.0rc1", "1.5"], ["0.9", "2.0"]),
    ],
)
def test_pep440_specifier_sets(
    range_text: str, normal: str, inside: list[str], outside: list[str]
) -> None:
    pypi = ecosystems.get("pypi")
    assert pypi.normalize_range(range_text) == normal
    assert all(pypi.in_range(normal, v) for v in inside)
    assert not any(pypi.in_range(normal, v) for v in outside)


@pytest.mark.parametrize(
    ("range_text", "normal", "inside", "outside"),
    [
        ("[1.0,2.0)", "[1.0,2.0)", ["1.0", "1.5", "1.9.9", "2.0-beta-1"], ["2.0", "0.9"]),
        ("[1.0, 2.0]", "[1.0,2.0]", ["2.0", "2.0.0"], ["2.0.1"]),
        ("(,1.0]", "(,1.0]", ["0.1", "1.0", "1-ga"], ["1.0.1"]),
        ("[1.2,)", "[1.2,)", ["1.2", "99"], ["1.1"]),
        ("[1.5]", "[1.5]", ["1.5", "1.5.0"], ["1.5.1"]),
        ("(,1.0],[1.2,)", "(,1.0],[1.2,)", ["0.5", "1.3"], ["1.1"]),
        ("2.14.1", "[2.14.1]", ["2.14.1"], ["2.14.2"]),
    ],
)
def test_maven_version_ranges(
    range_text: str, normal: str, inside: list[str], outside: list[str]
) -> None:
    maven = ecosystems.get("maven")
    assert maven.normalize_range(range_text) == normal
    assert all(maven.in_range(normal, v) for v in inside)
    assert not any(maven.in_range(normal, v) for v in outside)


def test_docker_tag_patterns() -> None:
    docker = ecosystems.get("docker")
    assert docker.normalize_range("1.25.*") == "1.25.*"
    assert docker.in_range("1.25.*", "1.25.3")
    assert not docker.in_range("1.25.*", "1.26.0")
    assert docker.in_range("3.19-alpine*", "3.19-alpine3.20")
    assert not docker.in_range("*", "sha256:" + "a" * 64)


@pytest.mark.parametrize(
    ("ecosystem", "range_text"),
    [
        ("pypi", ">>1"),
        ("pypi", "   "),
        ("npm", "nope"),
        ("npm", ">=1.0.0 <"),
        ("maven", "[2.0,1.0)"),
        ("maven", "[1.0,2.0"),
        ("maven", "[1.0,2.0,3.0]"),
        ("docker", "a/b"),
        ("docker", "x" * 200),
    ],
)
def test_invalid_ranges_name_the_range_field(ecosystem: str, range_text: str) -> None:
    with pytest.raises(InvalidRangeError) as caught:
        ecosystems.get(ecosystem).normalize_range(range_text)
    assert caught.value.errors[0].field == "range"
    assert caught.value.status == 400
