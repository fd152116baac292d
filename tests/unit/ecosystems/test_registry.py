"""The ecosystem registry, and the input checks every ecosystem shares."""

from __future__ import annotations

from typing import Any

import pytest

from foss_registry import ecosystems
from foss_registry.ecosystems import (
    NAMES,
    Ecosystem,
    InvalidNameError,
    InvalidVersionError,
    UnknownEcosystemError,
    by_osv_name,
)
from foss_registry.ecosystems.base import encode_int, shown
from foss_registry.errors import InvalidInputError

from .helpers import assert_actionable

ALL = [ecosystems.get(name) for name in NAMES]
# A name and a version each ecosystem accepts.
VALID = {
    "pypi": ("flask", "2.3.0"),
    "npm": ("@babel/core", "7.24.0"),
    "maven": ("org.apache.logging.log4j:log4j-core", "2.14.1"),
    "docker": ("library/nginx", "1.25.3"),
}
NAME_LIMIT = {"pypi": 255, "npm": 214, "maven": 255, "docker": 255}


def test_names_in_stable_order() -> None:
    assert NAMES == ("pypi", "npm", "maven", "docker")


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("pypi", "pypi"),
        ("PyPI", "pypi"),
        ("PYPI", "pypi"),
        (" pypi ", "pypi"),
        ("NPM", "npm"),
        ("Maven", "maven"),
        ("Docker", "docker"),
    ],
)
def test_get_is_case_insensitive(given: str, name: str) -> None:
    eco = ecosystems.get(given)
    assert isinstance(eco, Ecosystem)
    assert eco.name == name


@pytest.mark.parametrize("given", ["cargo", "", "py pi", "pypi2"])
def test_unknown_ecosystem(given: str) -> None:
    with pytest.raises(UnknownEcosystemError) as info:
        ecosystems.get(given)
    assert info.value.detail == (
        f"Unknown ecosystem {given!r}; use one of: pypi, npm, maven, docker."
    )
    assert info.value.code == "invalid_ecosystem"
    assert info.value.status == 400


def test_unknown_ecosystem_not_a_string() -> None:
    with pytest.raises(UnknownEcosystemError):
        ecosystems.get(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("osv", "name"), [("PyPI", "pypi"), ("npm", "npm"), ("Maven", "maven")])
def test_by_osv_name(osv: str, name: str) -> None:
    eco = by_osv_name(osv)
    assert eco is not None
    assert eco.name == name


@pytest.mark.parametrize("osv", ["crates.io", "pypi", "Go", "Docker"])
def test_by_osv_name_unknown(osv: str) -> None:
    assert by_osv_name(osv) is None


def test_errors_are_bad_requests() -> None:
    assert issubclass(InvalidNameError, InvalidInputError)
    assert issubclass(InvalidVersionError, InvalidInputError)
    assert InvalidNameError("x").status == 400
    assert InvalidVersionError("x").code == "invalid_version"


# --- checks shared by every ecosystem -------------------------------------


def _name_methods(eco: Ecosystem) -> list[Any]:
    version = VALID[eco.name][1]
    return [eco.validate_name, eco.normalize_name, lambda name: eco.purl(name, version)]


def _version_methods(eco: Ecosystem) -> list[Any]:
    name = VALID[eco.name][0]
    return [
        eco.canonical_version,
        eco.sort_key,
        eco.sort_token,
        lambda version: eco.purl(name, version),
    ]


@pytest.mark.parametrize("eco", ALL, ids=NAMES)
def test_valid_examples_work(eco: Ecosystem) -> None:
    name, version = VALID[eco.name]
    assert eco.validate_name(name) == name
    assert eco.purl(name, version).startswith(f"pkg:{eco.name}/")
    assert eco.sort_token(version).isascii()


@pytest.mark.parametrize("eco", ALL, ids=NAMES)
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("\t\n", "is empty"),
        ("ab\x00c", "control character '\\x00'"),
        ("ab\x1bc", "control character '\\x1b'"),
        ("ab\x7fc", "control character '\\x7f'"),
        ("ab\x85c", "control character '\\x85'"),
    ],
)
def test_names_empty_or_with_control_characters(eco: Ecosystem, value: str, fragment: str) -> None:
    for method in _name_methods(eco):
        with pytest.raises(InvalidNameError) as info:
            method(value)
        assert fragment in info.value.detail
        assert_actionable(info.value.detail)
        assert info.value.errors[0].field == "name"


@pytest.mark.parametrize("eco", ALL, ids=NAMES)
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "is empty"),
        ("  ", "is empty"),
        ("1.0\x00", "control character '\\x00'"),
        ("1\n0", "control character '\\n'"),
        ("1" * 129, "129 characters long; the maximum is 128"),
    ],
)
def test_versions_empty_with_controls_or_too_long(
    eco: Ecosystem, value: str, fragment: str
) -> None:
    for method in _version_methods(eco):
        with pytest.raises(InvalidVersionError) as info:
            method(value)
        assert fragment in info.value.detail
        assert_actionable(info.value.detail)
        assert info.value.errors[0].field == "version"


@pytest.mark.parametrize("eco", ALL, ids=NAMES)
def test_name_too_long(eco: Ecosystem) -> None:
    limit = NAME_LIMIT[eco.name]
    value = "a" * (limit + 1)
    with pytest.raises(InvalidNameError) as info:
        eco.validate_name(value)
    detail = info.value.detail
    assert f"is {limit + 1} characters long; the maximum is {limit}." in detail
    # The value is shown cut short, but recognisably.
    assert repr("a" * 60) + "..." in detail
    assert len(detail) < 250


@pytest.mark.parametrize("eco", ALL, ids=NAMES)
def test_not_a_string(eco: Ecosystem) -> None:
    with pytest.raises(InvalidNameError) as info:
        eco.validate_name(42)  # type: ignore[arg-type]
    assert info.value.detail.endswith("must be a string, not int.")
    with pytest.raises(InvalidVersionError):
        eco.canonical_version(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("eco", ALL, ids=NAMES)
def test_version_trimmed(eco: Ecosystem) -> None:
    version = VALID[eco.name][1]
    assert eco.canonical_version(f"  {version}\t") == eco.canonical_version(version)
    assert eco.sort_token(f" {version} ") == eco.sort_token(version)


def test_shown_truncates_long_values() -> None:
    assert shown("abc") == "'abc'"
    assert shown("x" * 60) == repr("x" * 60)
    assert shown("x" * 61) == repr("x" * 60) + "... (61 characters)"


@pytest.mark.parametrize(
    "numbers",
    [[0, 1, 9, 10, 99, 100, 12345, 10**24, 10**25 - 1, 10**25, 10**26, 10**100, 10**127]],
)
def test_encode_int_orders_numerically(numbers: list[int]) -> None:
    tokens = [encode_int(n) for n in numbers]
    assert tokens == sorted(tokens)
    assert len(set(tokens)) == len(tokens)
    assert all(t.isascii() for t in tokens)
