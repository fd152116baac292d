"""Docker repositories, tags and digests: validation, normalisation, ordering, tokens, purls."""

from __future__ import annotations

import pytest

from foss_registry.ecosystems import InvalidNameError, InvalidVersionError
from foss_registry.ecosystems.docker import Docker

from .helpers import assert_actionable, assert_strictly_increasing

docker = Docker()
DIGEST = "sha256:" + "0123456789abcdef" * 4


def test_identity() -> None:
    assert docker.name == "docker"
    assert docker.osv_name is None


# --- names ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("nginx", "library/nginx"),
        ("library/nginx", "library/nginx"),
        ("docker.io/library/nginx", "library/nginx"),
        ("docker.io/nginx", "library/nginx"),
        ("index.docker.io/library/nginx", "library/nginx"),
        ("DOCKER.IO/library/nginx", "library/nginx"),
        ("bitnami/postgresql", "bitnami/postgresql"),
        ("docker.io/bitnami/postgresql", "bitnami/postgresql"),
        ("ghcr.io/org/app", "ghcr.io/org/app"),
        ("GHCR.io/org/app", "ghcr.io/org/app"),
        ("ghcr.io/org/team/app", "ghcr.io/org/team/app"),
        ("localhost/app", "localhost/app"),
        ("localhost:5000/app", "localhost:5000/app"),
        ("registry.example:443/a/b", "registry.example:443/a/b"),
        ("[::1]:5000/app", "[::1]:5000/app"),
        ("my-registry/app", "my-registry/app"),
        ("a/b/c/d", "a/b/c/d"),
        ("foo_bar/baz__qux", "foo_bar/baz__qux"),
        ("a.b/c", "a.b/c"),
        ("x--y/a.b-c", "x--y/a.b-c"),
        ("  nginx  ", "library/nginx"),
    ],
)
def test_normalize_name(name: str, normalized: str) -> None:
    assert docker.validate_name(name) == name.strip()
    assert docker.normalize_name(name) == normalized


def test_one_repository_under_four_spellings() -> None:
    spellings = [
        "docker.io/library/nginx",
        "index.docker.io/library/nginx",
        "library/nginx",
        "nginx",
    ]
    assert {docker.normalize_name(s) for s in spellings} == {"library/nginx"}


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Nginx", "lower-case path components"),
        ("library/Nginx", "lower-case path components"),
        ("Library/nginx", "lower-case path components"),
        ("library//nginx", "lower-case path components"),
        ("library/nginx/", "lower-case path components"),
        ("/nginx", "lower-case path components"),
        ("-nginx", "lower-case path components"),
        ("nginx-", "lower-case path components"),
        ("ngi___nx", "lower-case path components"),
        ("ngi..nx", "lower-case path components"),
        ("ghcr.io/", "lower-case path components"),
        ("ngi nx", "lower-case path components"),
        ("nginx:1.25", "tag or digest"),
        ("library/nginx:latest", "tag or digest"),
        ("ghcr.io/org/app:1.0", "tag or digest"),
        ("nginx@sha256:abc", "tag or digest"),
        ("-bad-.io/app", "registry host"),
        ("bad_host.io/app", "registry host"),
        ("host.io:port/app", "registry host"),
    ],
)
def test_invalid_names(name: str, fragment: str) -> None:
    with pytest.raises(InvalidNameError) as info:
        docker.validate_name(name)
    assert_actionable(info.value.detail, name)
    assert fragment in info.value.detail


def test_name_length_limit() -> None:
    long_name = "a/" * 127 + "ab"
    assert len(long_name) == 256
    with pytest.raises(InvalidNameError) as info:
        docker.validate_name(long_name)
    assert "the maximum is 255" in info.value.detail
    assert "..." in info.value.detail


# --- versions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "canonical"),
    [
        ("latest", "latest"),
        ("Latest", "Latest"),
        ("1.25.3", "1.25.3"),
        ("1.25", "1.25"),
        ("v2.0", "v2.0"),
        ("1.25.3-alpine", "1.25.3-alpine"),
        ("_private", "_private"),
        ("a" * 128, "a" * 128),
        (DIGEST, DIGEST),
        (DIGEST.upper().replace("SHA256", "sha256"), DIGEST),
        ("SHA256:" + "A" * 64, "sha256:" + "a" * 64),
    ],
)
def test_canonical_version(version: str, canonical: str) -> None:
    assert docker.canonical_version(version) == canonical


def test_tags_are_distinct_spellings() -> None:
    # Tags are names, not numbers: 1.0 and 1.0.0 are two tags of equal rank.
    assert docker.canonical_version("1.0") != docker.canonical_version("1.0.0")
    assert docker.compare("1.0", "1.0.0") == 0


@pytest.mark.parametrize(
    ("version", "fragment"),
    [
        (".hidden", "Docker tag"),
        ("-dash", "Docker tag"),
        ("a" * 129, "the maximum is 128"),
        ("with space", "Docker tag"),
        ("tag:colon", "Docker tag"),
        ("tag/slash", "Docker tag"),
        ("tag+plus", "Docker tag"),
        ("sha256:abc", "Docker digest"),
        ("sha256:" + "g" * 64, "Docker digest"),
        ("sha256:" + "a" * 65, "Docker digest"),
        ("sha512:" + "a" * 64, "Docker tag"),
        ("@" + DIGEST, "Docker tag"),
    ],
)
def test_invalid_versions(version: str, fragment: str) -> None:
    with pytest.raises(InvalidVersionError) as info:
        docker.canonical_version(version)
    assert fragment in info.value.detail
    if len(version) <= 60:
        assert_actionable(info.value.detail, version)
    for method in (docker.sort_key, docker.sort_token):
        with pytest.raises(InvalidVersionError):
            method(version)


def test_version_tags_order_by_version() -> None:
    assert_strictly_increasing(
        docker, ["1.9", "1.10.0rc1", "1.10", "1.25.3", "v2.0", "2.1", "3.19", "10", "2024.01.15"]
    )


@pytest.mark.parametrize("other", ["latest", "stable", "alpine", "1.25.3-alpine", "main", DIGEST])
def test_version_tags_sort_above_other_tags(other: str) -> None:
    assert docker.compare(other, "0.0.1") < 0
    assert docker.sort_token(other) < docker.sort_token("0.0.1")
    assert docker.sort_token(other) == "0"


def test_unordered_tags_compare_equal() -> None:
    unordered = ["latest", "stable", "1.25.3-alpine", DIGEST, "bookworm"]
    for a in unordered:
        for b in unordered:
            assert docker.compare(a, b) == 0
            assert docker.sort_token(a) == docker.sort_token(b)


def test_sort_token_of_version_tag() -> None:
    assert docker.sort_token("1.25.3") == "1a0a1b25a3.E01"
    assert docker.sort_token("v1.25.3") == docker.sort_token("1.25.3")


def test_sorted_versions_keeps_unordered_tags_in_given_order() -> None:
    given = ["latest", "1.25.3", "stable", "1.9.0", DIGEST, "v2.0"]
    expected = ["latest", "stable", DIGEST, "1.9.0", "1.25.3", "v2.0"]
    assert docker.sorted_versions(given) == expected
    assert sorted(given, key=docker.sort_token) == expected


# --- purls ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "purl"),
    [
        ("nginx", "1.25.3", "pkg:docker/library/nginx@1.25.3"),
        ("docker.io/library/nginx", "1.25.3", "pkg:docker/library/nginx@1.25.3"),
        ("library/nginx", "latest", "pkg:docker/library/nginx@latest"),
        ("bitnami/redis", "7.2", "pkg:docker/bitnami/redis@7.2"),
        ("ghcr.io/org/app", "v1.0", "pkg:docker/org/app@v1.0?repository_url=ghcr.io"),
        ("ghcr.io/org/team/app", "1", "pkg:docker/org/team/app@1?repository_url=ghcr.io"),
        ("localhost:5000/app", "dev", "pkg:docker/app@dev?repository_url=localhost:5000"),
        ("nginx", DIGEST, f"pkg:docker/library/nginx@{DIGEST}"),
        ("nginx", DIGEST.replace("abcdef", "ABCDEF"), f"pkg:docker/library/nginx@{DIGEST}"),
    ],
)
def test_purl(name: str, version: str, purl: str) -> None:
    assert docker.purl(name, version) == purl
