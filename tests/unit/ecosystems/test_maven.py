"""Maven names (groupId:artifactId), ComparableVersion ordering, canonical forms, tokens, purls.

Many expectations come from the cases Maven's own ComparableVersionTest checks.
"""

from __future__ import annotations

import pytest

from foss_registry.ecosystems import InvalidNameError, InvalidVersionError
from foss_registry.ecosystems.maven import Maven, MavenVersion, canonical_string, parse_items

from .helpers import assert_actionable, assert_same_version, assert_strictly_increasing

maven = Maven()


def test_identity() -> None:
    assert maven.name == "maven"
    assert maven.osv_name == "Maven"


# --- names ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "org.apache.logging.log4j:log4j-core",
        "com.google.guava:guava",
        "junit:junit",
        "org.scala-lang:scala3-library_3",
        "Org.Example:My-Artifact",
        "a:b",
    ],
)
def test_valid_names(name: str) -> None:
    assert maven.validate_name(name) == name
    assert maven.normalize_name(f"  {name} ") == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("log4j-core", "exactly one ':'"),
        ("a:b:c", "exactly one ':'"),
        ("org.apache:log4j:2.14.1", "exactly one ':'"),
        (":log4j-core", "groupId of the Maven package name ':log4j-core' is empty"),
        ("org.apache:", "artifactId of the Maven package name 'org.apache:' is empty"),
        ("org apache:core", "groupId"),
        ("org.apache:core/x", "artifactId"),
        ("org.apache:cöre", "artifactId"),
        ("org/apache:core", "groupId"),
    ],
)
def test_invalid_names(name: str, fragment: str) -> None:
    with pytest.raises(InvalidNameError) as info:
        maven.validate_name(name)
    assert_actionable(info.value.detail, name)
    assert fragment in info.value.detail


def test_names_are_case_sensitive() -> None:
    assert maven.normalize_name("org.Example:A") != maven.normalize_name("org.example:a")


# --- versions ------------------------------------------------------------


@pytest.mark.parametrize(
    "version",
    [
        "1.0",
        "2.14.1",
        "1.0-SNAPSHOT",
        "5.3.9.RELEASE",
        "31.1-jre",
        "1.0_1",
        "1.0+build",
        "v2",
        "R1",
    ],
)
def test_valid_versions(version: str) -> None:
    assert maven.canonical_version(version)


@pytest.mark.parametrize(
    "version",
    ["[1.0,2.0)", "1.0 beta", "-1.0", ".1", "1.0/2", "1.0@x", "1,0", "${project.version}"],
)
def test_invalid_versions(version: str) -> None:
    with pytest.raises(InvalidVersionError) as info:
        maven.canonical_version(version)
    assert_actionable(info.value.detail, version)
    assert "Maven version" in info.value.detail
    for method in (maven.sort_key, maven.sort_token):
        with pytest.raises(InvalidVersionError):
            method(version)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1", "1.0"),
        ("1.0", "1.0.0"),
        ("1.0", "1-ga"),
        ("1.0", "1.0-final"),
        ("1.0", "1.0.Final"),
        ("1.0", "1.0.RELEASE"),
        ("1.0", "1.0-GA"),
        ("1", "1-0"),
        ("1", "1.0-0"),
        ("1", "1.0.0-0.0"),
        ("1a", "1.a"),
        ("1a", "1-a"),
        ("1a", "1.0-a"),
        ("1a", "1.0.0-a"),
        ("1x", "1.0.0-x"),
        ("1ga", "1"),
        ("1final", "1"),
        ("1release", "1"),
        ("1cr", "1rc"),
        ("1a1", "1alpha1"),
        ("1a1", "1-alpha-1"),
        ("1b2", "1beta2"),
        ("1m3", "1milestone3"),
        ("1m3", "1MILESTONE3"),
        ("1X", "1x"),
        ("1Cr", "1Rc"),
        ("1.0.0.RC1", "1.0.0-RC1"),
        ("1.0.0.M1", "1.0.0-M1"),
        ("2-abc", "2.0.abc"),
        ("2-abc", "2.0.0.abc"),
        ("01.1", "1.1"),
        ("0000000000000000001", "1"),
        ("0000000000000000000", "0"),
        ("1-abcdefghijklmnopqrstuvwxyz", "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ],
)
def test_same_version(a: str, b: str) -> None:
    assert_same_version(maven, a, b)


@pytest.mark.parametrize(
    ("version", "canonical"),
    [
        ("1.0", "1"),
        ("2.14.1", "2.14.1"),
        ("2.15.0", "2.15"),
        ("1.0-SNAPSHOT", "1-snapshot"),
        ("1.0.0.RC1", "1-rc-1"),
        ("3.0.0-M5", "3-milestone-5"),
        ("5.3.9.RELEASE", "5.3.9"),
        ("31.1-jre", "31.1-jre"),
        ("1.0-alpha-1", "1-alpha-1"),
        ("0", "0"),
        ("1.0.Final", "1"),
        # Where Maven's own canonical form is ambiguous, ours stays distinct.
        ("1-0-1", "1-0-1"),
        ("1-1", "1-1"),
        ("1.sp-0", "1.sp-0"),
        ("1.ga.1", "1.ga.1"),
    ],
)
def test_canonical_version(version: str, canonical: str) -> None:
    assert maven.canonical_version(version) == canonical


@pytest.mark.parametrize(
    "version",
    ["1.0", "1-0-1", "1.sp-0", "1.ga.1", "2.0.0.BUILD-SNAPSHOT", "0-SNAPSHOT", "1.0a1b2", "1--1"],
)
def test_canonical_form_parses_back_to_itself(version: str) -> None:
    canonical = maven.canonical_version(version)
    assert parse_items(canonical) == parse_items(version)
    assert maven.canonical_version(canonical) == canonical
    assert canonical_string(parse_items(canonical)) == canonical


def test_ordering_brief_examples() -> None:
    assert_strictly_increasing(
        maven, ["1.0-alpha", "1.0-beta", "1.0-SNAPSHOT", "1.0", "1.0-sp1", "2.14.1", "2.15.0"]
    )


# ComparableVersionTest: VERSIONS_QUALIFIER and VERSIONS_NUMBER (Maven 3.8.8 and later).
VERSIONS_QUALIFIER = [
    "1-alpha2snapshot",
    "1-alpha2",
    "1-alpha-123",
    "1-beta-2",
    "1-beta123",
    "1-m2",
    "1-m11",
    "1-rc",
    "1-cr2",
    "1-rc123",
    "1-SNAPSHOT",
    "1",
    "1-sp",
    "1-sp2",
    "1-sp123",
    "1-abc",
    "1-def",
    "1-pom-1",
    "1-1-snapshot",
    "1-1",
    "1-2",
    "1-123",
]
VERSIONS_NUMBER = [
    "2.0",
    "2.0.a",
    "2-1",
    "2.0.2",
    "2.0.123",
    "2.1.0",
    "2.1-a",
    "2.1b",
    "2.1-c",
    "2.1-1",
    "2.1.0.1",
    "2.2",
    "2.123",
    "11.a2",
    "11.a11",
    "11.b2",
    "11.b11",
    "11.m2",
    "11.m11",
    "11",
    "11.a",
    "11b",
    "11c",
    "11m",
]


@pytest.mark.parametrize("versions", [VERSIONS_QUALIFIER, VERSIONS_NUMBER])
def test_maven_reference_orders(versions: list[str]) -> None:
    assert_strictly_increasing(maven, versions)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("1", "2"),
        ("1.5", "2"),
        ("1", "2.5"),
        ("1.0", "1.1"),
        ("1.1", "1.2"),
        ("1.0.0", "1.1"),
        ("1.0.1", "1.1"),
        ("1.1", "1.2.0"),
        ("1.0-alpha-1", "1.0"),
        ("1.0-alpha-1", "1.0-alpha-2"),
        ("1.0-alpha-1", "1.0-beta-1"),
        ("1.0-beta-1", "1.0-SNAPSHOT"),
        ("1.0-SNAPSHOT", "1.0"),
        ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"),
        ("1.0", "1.0-1"),
        ("1.0-1", "1.0-2"),
        ("1.0.0", "1.0-1"),
        ("2.0-1", "2.0.1"),
        ("2.0.1-klm", "2.0.1-lmn"),
        ("2.0.1", "2.0.1-xyz"),
        ("2.0.1", "2.0.1-123"),
        ("2.0.1-xyz", "2.0.1-123"),
        ("0.7", "2"),
        ("0.2", "1.0.7"),
        # MNG-5568: transitive with an odd letter in the middle.
        ("6.1.0rc3", "6.1.0"),
        ("6.1.0rc3", "6.1H.5-beta"),
        ("6.1.0", "6.1H.5-beta"),
        # MNG-6572: numbers beyond int and long.
        ("20190126.230843", "1234567890.12345"),
        ("1234567890.12345", "123456789012345.1H.5-beta"),
        ("123456789012345.1H.5-beta", "12345678901234567890.1H.5-beta"),
        # MNG-6964: a sub-list starting with 0 is still compared past the 0.
        ("1-0.alpha", "1"),
        ("1-0.beta", "1"),
        ("1-0.alpha", "1-0.beta"),
        # MNG-7644: a qualifier after a dot opens a sub-list like after a hyphen.
        ("1.0.0.RC1", "1.0.0-RC2"),
        ("1.0.0.abc1", "1.0.0-abc2"),
        ("1.0.0.m1", "1.0.0-m2"),
        # Common real versions.
        ("2.14.1", "2.15.0"),
        ("2.15.0-rc1", "2.15.0"),
        ("3.0.0-M5", "3.0.0-RC1"),
        ("5.3.9.RELEASE", "5.3.10.RELEASE"),
        ("31.1-android", "31.1-jre"),
        ("31.1-jre", "32.0.0-jre"),
        ("1.0-SNAPSHOT", "1.0-sp1"),
        ("1.0-sp1", "1.0.1"),
        ("1.0-alpha", "1.0-alpha1"),
        ("1.0-alpha1", "1.0-alpha2"),
        ("1.0-alpha10", "1.0-beta1"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),
    ],
)
def test_ordering_pairs(low: str, high: str) -> None:
    assert_strictly_increasing(maven, [low, high])


def test_maven_39_rules_where_univers_differs() -> None:
    # univers' MavenVersion follows an older Maven; Maven 3.9 treats these as equal.
    assert_same_version(maven, "1.0.RELEASE", "1.0")
    assert_same_version(maven, "1.0.0.RC1", "1.0.0-RC1")


def test_build_snapshot_is_a_qualifier_after_dot() -> None:
    # "BUILD" sits between dots, so Maven compares it as an unknown qualifier
    # above a release: 2.0.0.BUILD-SNAPSHOT > 2.0.0.
    assert maven.compare("2.0.0.BUILD-SNAPSHOT", "2.0.0") > 0
    assert maven.sort_token("2.0.0.BUILD-SNAPSHOT") > maven.sort_token("2.0.0")


def test_sort_key_is_hashable_and_consistent() -> None:
    assert hash(MavenVersion("1.0")) == hash(MavenVersion("1-ga"))
    assert MavenVersion("1.0") == MavenVersion("1.0.0")
    assert MavenVersion("1.0") != "1.0"
    assert repr(MavenVersion("1.0")) == "MavenVersion('1.0')"


def test_sorted_versions() -> None:
    given = ["2.15.0", "1.0", "1.0-SNAPSHOT", "2.14.1", "1.0-alpha", "1.0-sp1", "1.1-rc1"]
    expected = ["1.0-alpha", "1.0-SNAPSHOT", "1.0", "1.0-sp1", "1.1-rc1", "2.14.1", "2.15.0"]
    assert maven.sorted_versions(given) == expected
    assert sorted(given, key=maven.sort_token) == expected


# --- purls ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "purl"),
    [
        (
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        ),
        ("junit:junit", "4.13.2", "pkg:maven/junit/junit@4.13.2"),
        (
            "org.springframework:spring-core",
            "5.3.9.RELEASE",
            "pkg:maven/org.springframework/spring-core@5.3.9.RELEASE",
        ),
        ("Org.Example:Thing", "1.0+b", "pkg:maven/Org.Example/Thing@1.0%2Bb"),
    ],
)
def test_purl(name: str, version: str, purl: str) -> None:
    assert maven.purl(name, version) == purl
