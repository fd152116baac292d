"""PyPI names (PEP 508/503), versions (PEP 440), ordering, tokens and purls."""

from __future__ import annotations

import pytest
from packaging.version import Version

from foss_registry.ecosystems import InvalidNameError, InvalidVersionError
from foss_registry.ecosystems.pypi import PyPI

from .helpers import assert_actionable, assert_same_version, assert_strictly_increasing

pypi = PyPI()


def test_identity() -> None:
    assert pypi.name == "pypi"
    assert pypi.osv_name == "PyPI"


# --- names ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "flask",
        "Flask",
        "FLASK",
        "a",
        "Z",
        "9",
        "zope.interface",
        "zope_interface",
        "zope-interface",
        "python-dateutil",
        "ruamel.yaml.clib",
        "A1",
        "x__y",
        "a-.-b",
        "a" * 255,
    ],
)
def test_valid_names(name: str) -> None:
    assert pypi.validate_name(name) == name


def test_validate_name_trims_and_keeps_spelling() -> None:
    assert pypi.validate_name("  Flask\t") == "Flask"


@pytest.mark.parametrize(
    "name",
    [
        "-flask",
        "flask-",
        ".flask",
        "flask.",
        "_flask",
        "fl ask",
        "fläsk",
        "flask/core",
        "a+b",
        "@x",
    ],
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidNameError) as info:
        pypi.validate_name(name)
    assert_actionable(info.value.detail, name)
    assert "PyPI package name" in info.value.detail
    assert "letters, digits" in info.value.detail
    assert info.value.code == "invalid_name"
    assert info.value.errors[0].field == "name"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Flask", "flask"),
        ("flask", "flask"),
        ("FLASK", "flask"),
        ("zope_interface", "zope-interface"),
        ("zope-interface", "zope-interface"),
        ("zope.interface", "zope-interface"),
        ("Zope__Interface", "zope-interface"),
        ("a-._b", "a-b"),
        ("ruamel.yaml.clib", "ruamel-yaml-clib"),
        (" Flask ", "flask"),
    ],
)
def test_normalize_name(name: str, expected: str) -> None:
    assert pypi.normalize_name(name) == expected


def test_normalize_name_rejects_invalid() -> None:
    with pytest.raises(InvalidNameError):
        pypi.normalize_name("not valid")


# --- versions ------------------------------------------------------------


@pytest.mark.parametrize(
    "version",
    [
        "1",
        "1.0",
        "2.3.0",
        "v1.0",
        "V1.0",
        "1!2.0",
        "1.0a1",
        "1.0-alpha-1",
        "1.0b2",
        "1.0rc1",
        "1.0c1",
        "1.0.post1",
        "1.0-1",
        "1.0.dev3",
        "1.0+ubuntu.1",
        "2024.1.15",
        "0.0.0.0.1",
    ],
)
def test_valid_versions(version: str) -> None:
    assert pypi.canonical_version(version)
    assert isinstance(pypi.sort_key(version), Version)


@pytest.mark.parametrize(
    "version", ["1.0.0-SNAPSHOT", "latest", "1..0", "1.0beta-x", "1.0+", "one", "1.0 2", "=1.0"]
)
def test_invalid_versions(version: str) -> None:
    with pytest.raises(InvalidVersionError) as info:
        pypi.canonical_version(version)
    assert_actionable(info.value.detail, version)
    assert "PEP 440" in info.value.detail
    assert info.value.code == "invalid_version"
    assert info.value.errors[0].field == "version"
    for method in (pypi.sort_key, pypi.sort_token):
        with pytest.raises(InvalidVersionError):
            method(version)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0", "1.0.0"),
        ("1", "1.0.0.0"),
        ("v1.0", "1.0"),
        (" 1.0 ", "1.0"),
        ("1.0rc1", "1.0-RC1"),
        ("1.0rc1", "1.0c1"),
        ("1.0a1", "1.0-alpha.1"),
        ("1.0.post1", "1.0-1"),
        ("1.0.post0", "1.0.post"),
        ("1.0.dev0", "1.0.dev"),
        ("0!1.0", "1.0"),
        ("01.002", "1.2"),
        ("1.0+abc.01", "1.0+ABC.1"),
        ("1.0+abc-1", "1.0+abc.1"),
    ],
)
def test_same_version(a: str, b: str) -> None:
    assert_same_version(pypi, a, b)


def test_canonical_forms() -> None:
    assert pypi.canonical_version("1.0.0") == "1"
    assert pypi.canonical_version("v2.3.0rc1") == "2.3rc1"
    assert pypi.canonical_version("1!2.0.post2") == "1!2.post2"


@pytest.mark.parametrize(
    ("a", "b"),
    [("1.0", "1.0.1"), ("1.0", "1.0+local"), ("1.0a1", "1.0"), ("2.0", "1!0.1")],
)
def test_different_versions(a: str, b: str) -> None:
    assert pypi.canonical_version(a) != pypi.canonical_version(b)
    assert pypi.compare(a, b) < 0


def test_ordering_pep440_example() -> None:
    assert_strictly_increasing(
        pypi,
        [
            "0.9",
            "1.0.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
            "1.2",
            "1.10",
            "2.0",
            "10.0",
            "2024.1",
            "1!0.1",
            "1!1.0",
            "2!0",
        ],
    )


def test_ordering_local_versions() -> None:
    assert_strictly_increasing(
        pypi,
        ["1.0", "1.0+a", "1.0+a.b", "1.0+a.1", "1.0+b", "1.0+b1", "1.0+0", "1.0+2", "1.0+10"],
    )


def test_long_numbers_sort_numerically() -> None:
    big = "1" + "0" * 40
    assert_strictly_increasing(pypi, ["9", "99999999999999999999", big, big + "1", "1!0"])


def test_sorted_versions() -> None:
    given = ["2.0", "1.0", "1.0rc1", "1.0.post1", "v1.5", "1.0.dev1"]
    assert pypi.sorted_versions(given) == ["1.0.dev1", "1.0rc1", "1.0", "1.0.post1", "v1.5", "2.0"]
    by_token = sorted(given, key=pypi.sort_token)
    assert by_token == pypi.sorted_versions(given)


def test_sort_token_is_ascii_and_readable() -> None:
    token = pypi.sort_token("1.2.3")
    assert token.isascii()
    assert token == "a0a1a2a3.E01"


# --- purls ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "purl"),
    [
        ("flask", "2.3.0", "pkg:pypi/flask@2.3.0"),
        ("Flask", "2.3.0", "pkg:pypi/flask@2.3.0"),
        ("zope_interface", "5.0", "pkg:pypi/zope-interface@5.0"),
        ("ruamel.yaml", "0.17.21", "pkg:pypi/ruamel-yaml@0.17.21"),
        ("Django", "v4.2", "pkg:pypi/django@4.2"),
        ("requests", "2.0-RC1", "pkg:pypi/requests@2.0rc1"),
        ("numpy", "1.0+local.1", "pkg:pypi/numpy@1.0%2Blocal.1"),
        ("pkg", "1!2.0", "pkg:pypi/pkg@1%212.0"),
    ],
)
def test_purl(name: str, version: str, purl: str) -> None:
    assert pypi.purl(name, version) == purl


def test_purl_rejects_invalid_input() -> None:
    with pytest.raises(InvalidNameError):
        pypi.purl("bad name", "1.0")
    with pytest.raises(InvalidVersionError):
        pypi.purl("flask", "latest")
