"""npm names (validate-npm-package-name rules), SemVer versions, ordering, tokens and purls."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packageurl import PackageURL

from foss_registry.ecosystems import InvalidNameError, InvalidVersionError
from foss_registry.ecosystems.npm import Npm

from .helpers import assert_actionable, assert_same_version, assert_strictly_increasing

npm = Npm()


def test_identity() -> None:
    assert npm.name == "npm"
    assert npm.osv_name == "npm"


# --- names ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "express",
        "lodash.merge",
        "left-pad",
        "a",
        "@babel/core",
        "@types/node",
        "@scope/a.b_c-d",
        "JSONStream",
        "@Legacy/Capital",
        "a_b",
        "x" * 214,
        "@s/" + "x" * 211,
        "http",
        "9lives",
        "-dash-first",
    ],
)
def test_valid_names(name: str) -> None:
    assert npm.validate_name(name) == name


def test_validate_name_trims() -> None:
    assert npm.validate_name("  @babel/core \n") == "@babel/core"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        (".hidden", "must not start with '.' or '_'"),
        ("_private", "must not start with '.' or '_'"),
        ("has space", "must not contain spaces"),
        ("node_modules", "reserved"),
        ("favicon.ico", "reserved"),
        ("NODE_MODULES", "reserved"),
        ("@scope", "'@scope/name'"),
        ("@scope/", "'@scope/name'"),
        ("@/name", "'@scope/name'"),
        ("@scope/a/b", "'@scope/name'"),
        ("@sc ope/a", "must not contain spaces"),
        ("@sc~ope/a", "'@scope/name'"),
        ("a/b", "not valid"),
        ("café", "not valid"),
        ("a:b", "not valid"),
        ("a?b", "not valid"),
        ("a%20b", "not valid"),
        ("a!b", "not valid"),
    ],
)
def test_invalid_names(name: str, fragment: str) -> None:
    with pytest.raises(InvalidNameError) as info:
        npm.validate_name(name)
    assert_actionable(info.value.detail, name)
    assert fragment in info.value.detail
    assert info.value.errors[0].field == "name"


def test_name_length_limit_is_214() -> None:
    with pytest.raises(InvalidNameError) as info:
        npm.validate_name("x" * 215)
    assert "215 characters long; the maximum is 214" in info.value.detail
    assert_actionable(info.value.detail)


def test_normalize_name_keeps_case() -> None:
    # Legacy capitals are distinct packages: JSONStream is not jsonstream.
    assert npm.normalize_name("JSONStream") == "JSONStream"
    assert npm.normalize_name(" @babel/core ") == "@babel/core"
    assert npm.normalize_name("jsonstream") != npm.normalize_name("JSONStream")


# --- versions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "canonical"),
    [
        ("1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        ("=1.2.3", "1.2.3"),
        ("=v1.2.3", "1.2.3"),
        ("  v1.2.3 ", "1.2.3"),
        ("0.0.0", "0.0.0"),
        ("1.0.0-rc.1", "1.0.0-rc.1"),
        ("1.0.0-alpha+001", "1.0.0-alpha"),
        ("1.0.0+20130313144700", "1.0.0"),
        ("1.0.0-beta+exp.sha.5114f85", "1.0.0-beta"),
        ("1.0.0-x-y-z.--", "1.0.0-x-y-z.--"),
        ("1.0.0-0A.is.legal", "1.0.0-0A.is.legal"),
        ("9007199254740991.0.0", "9007199254740991.0.0"),
    ],
)
def test_canonical_version(version: str, canonical: str) -> None:
    assert npm.canonical_version(version) == canonical


@pytest.mark.parametrize(
    "version",
    [
        "1",
        "1.2",
        "1.2.3.4",
        "01.2.3",
        "1.02.3",
        "1.2.03",
        "1.2.3-01",
        "1.2.3-",
        "1.2.3+",
        "1.2.3-a..b",
        "1.2.3-a_b",
        "1.2.3+a+b",
        "V1.2.3",
        "latest",
        "^1.2.3",
        "~1.2.3",
        "1.2.x",
        "1.2.3 - 2.0.0",
        "vv",
    ],
)
def test_invalid_versions(version: str) -> None:
    with pytest.raises(InvalidVersionError) as info:
        npm.canonical_version(version)
    assert_actionable(info.value.detail, version)
    assert "SemVer 2.0" in info.value.detail
    for method in (npm.sort_key, npm.sort_token):
        with pytest.raises(InvalidVersionError):
            method(version)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0.0", "v1.0.0"),
        ("1.0.0", "=1.0.0"),
        ("1.0.0+build.1", "1.0.0+build.2"),
        ("1.0.0+build", "1.0.0"),
        ("1.0.0-rc.1+x", "v1.0.0-rc.1"),
    ],
)
def test_same_version(a: str, b: str) -> None:
    assert_same_version(npm, a, b)


def test_semver_spec_precedence_example() -> None:
    assert_strictly_increasing(
        npm,
        [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ],
    )


def test_ordering_numbers_and_identifiers() -> None:
    assert_strictly_increasing(
        npm,
        [
            "0.0.1",
            "0.1.0",
            "1.0.0-0",
            "1.0.0-1",
            "1.0.0-2",
            "1.0.0-10",
            "1.0.0-10.0",
            "1.0.0--",
            "1.0.0-A",
            "1.0.0-Z",
            "1.0.0-a",
            "1.0.0-a.0",
            "1.0.0-a.b",
            "1.0.0-a-",
            "1.0.0-a0",
            "1.0.0-alpha",
            "1.0.0",
            "2.9.0",
            "2.10.0",
            "10.0.0",
            "9007199254740991.0.0",
        ],
    )


def test_sorted_versions() -> None:
    given = ["2.10.0", "2.9.0", "v1.0.0", "1.0.0-rc.1", "1.0.0-beta.11", "1.0.0-beta.2"]
    expected = ["1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "v1.0.0", "2.9.0", "2.10.0"]
    assert npm.sorted_versions(given) == expected
    assert sorted(given, key=npm.sort_token) == expected


# --- purls ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "purl"),
    [
        ("@babel/core", "7.24.0", "pkg:npm/%40babel/core@7.24.0"),
        ("express", "v4.18.2", "pkg:npm/express@4.18.2"),
        ("JSONStream", "1.3.5", "pkg:npm/JSONStream@1.3.5"),
        ("@types/node", "20.0.0-rc.1+build.7", "pkg:npm/%40types/node@20.0.0-rc.1"),
    ],
)
def test_purl(name: str, version: str, purl: str) -> None:
    assert npm.purl(name, version) == purl


@pytest.mark.parametrize(
    ("name", "version"), [("@babel/core", "7.24.0"), ("left-pad", "1.3.0"), ("a.b", "1.0.0-x.1")]
)
def test_purl_matches_packageurl_for_lower_case_names(name: str, version: str) -> None:
    namespace, _, short = name.rpartition("/")
    expected = PackageURL(type="npm", namespace=namespace or None, name=short, version=version)
    assert npm.purl(name, version) == expected.to_string()
    parsed = PackageURL.from_string(npm.purl(name, version))
    assert (parsed.namespace or "", parsed.name, parsed.version) == (namespace, short, version)


@given(
    parts=st.lists(
        st.one_of(st.integers(0, 99), st.integers(2**53 - 3, 2**64)), min_size=3, max_size=3
    ),
    prerelease=st.sampled_from(["", "-rc.1", "-9007199254740993"]),
)
def test_numbers_above_javascripts_safe_integers_are_refused_as_node_semver_does(
    parts: list[int], prerelease: str
) -> None:
    from foss_registry.ecosystems.npm import MAX_SAFE_INTEGER

    version = ".".join(map(str, parts)) + prerelease
    if max(parts) > MAX_SAFE_INTEGER:
        with pytest.raises(InvalidVersionError, match="2\\^53-1"):
            npm.canonical_version(version)
    else:
        # node-semver keeps a large numeric pre-release identifier (compared as text there).
        assert npm.canonical_version(version) == version
    assert npm.canonical_version(f"{MAX_SAFE_INTEGER}.0.0") == f"{MAX_SAFE_INTEGER}.0.0"
    with pytest.raises(InvalidVersionError):
        npm.canonical_version(f"1.{MAX_SAFE_INTEGER + 1}.0")
