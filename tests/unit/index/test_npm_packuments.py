"""npm packuments filtered to approved versions: tags, time, tarballs, abbreviated form."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from foss_registry.errors import InvalidInputError
from foss_registry.index import npm
from foss_registry.index.errors import BadUpstreamError

DATA = b"tarball bytes"
INTEGRITY = "sha512-" + base64.b64encode(hashlib.sha512(DATA).digest()).decode()


def version(name: str, v: str) -> dict:
    base = name.rsplit("/", 1)[-1]
    return {
        "name": name,
        "version": v,
        "description": "long text",
        "scripts": {"test": "x"},
        "dependencies": {"a": "^1"},
        "dist": {
            "tarball": f"https://up.example/{name}/-/{base}-{v}.tgz",
            "integrity": INTEGRITY,
            "shasum": hashlib.sha1(DATA).hexdigest(),
        },
    }


def packument(name: str = "@acme/util") -> dict:
    versions = ["1.0.0", "1.1.0", "2.0.0-beta.1", "2.0.0"]
    return {
        "_id": name,
        "_rev": "12-abc",
        "name": name,
        "readme": "hello",
        "dist-tags": {"latest": "2.0.0", "next": "2.0.0-beta.1", "old": "1.0.0"},
        "versions": {v: version(name, v) for v in versions},
        "time": {"created": "2020-01-01T00:00:00Z", "modified": "2024-05-05T00:00:00Z"}
        | {v: f"2021-0{i + 1}-01T00:00:00Z" for i, v in enumerate(versions)},
    }


def test_refused_versions_leak_nowhere_and_latest_is_the_highest_approved_stable() -> None:
    doc = npm.filter_packument(
        packument(), {"1.0.0", "1.1.0", "2.0.0-beta.1"}, "http://reg:8000", abbreviated=False
    )
    assert list(doc["versions"]) == ["1.0.0", "1.1.0", "2.0.0-beta.1"]
    assert doc["dist-tags"] == {"latest": "1.1.0", "next": "2.0.0-beta.1", "old": "1.0.0"}
    assert set(doc["time"]) == {"created", "modified", "1.0.0", "1.1.0", "2.0.0-beta.1"}
    assert doc["time"]["modified"] == "2021-03-01T00:00:00Z"
    assert '2.0.0"' not in json.dumps(doc).replace("2.0.0-beta", "")
    assert "_rev" not in doc and doc["readme"] == "hello"


def test_tarballs_point_at_the_registry_and_digests_are_kept() -> None:
    doc = npm.filter_packument(packument(), {"1.0.0"}, "http://reg:8000", abbreviated=False)
    dist = doc["versions"]["1.0.0"]["dist"]
    assert dist["tarball"] == "http://reg:8000/npm/@acme/util/-/util-1.0.0.tgz"
    assert dist["integrity"] == INTEGRITY
    assert dist["shasum"] == hashlib.sha1(DATA).hexdigest()


def test_abbreviated_form_keeps_install_fields_only() -> None:
    doc = npm.filter_packument(packument(), {"1.0.0"}, "http://reg", abbreviated=True)
    assert set(doc) == {"name", "dist-tags", "versions", "modified"}
    entry = doc["versions"]["1.0.0"]
    assert "scripts" not in entry and "description" not in entry
    assert entry["dependencies"] == {"a": "^1"}


def test_a_tag_pointing_at_a_refused_version_is_dropped() -> None:
    doc = npm.filter_packument(packument(), {"1.1.0"}, "http://reg", abbreviated=False)
    assert doc["dist-tags"] == {"latest": "1.1.0"}


def test_upstream_tarball_digest_prefers_integrity_sha512() -> None:
    url, digest = npm.upstream_tarball(packument(), "1.0.0")
    assert url.endswith("util-1.0.0.tgz")
    assert digest == ("sha512", hashlib.sha512(DATA).hexdigest())
    doc = packument()
    del doc["versions"]["1.0.0"]["dist"]["integrity"]
    assert npm.upstream_tarball(doc, "1.0.0")[1] == ("sha1", hashlib.sha1(DATA).hexdigest())
    assert npm.upstream_tarball(doc, "9.9.9") is None


def test_tarball_names() -> None:
    assert npm.tarball_version("@acme/util", "util-1.2.3-rc.1.tgz") == "1.2.3-rc.1"
    assert npm.tarball_version("left-pad", "left-pad-1.0.0.tgz") == "1.0.0"
    for bad in ("..", "util-..tgz", "other-1.0.0.tgz", "util-1.0.tgz", "util-1.0.0.tgz/x"):
        with pytest.raises(InvalidInputError):
            npm.tarball_version("@acme/util", bad)


def test_names() -> None:
    assert npm.package_name("@acme/util") == "@acme/util"
    for bad in ("..", "@acme", "x" * 10_000, "a b", "@a/../b"):
        with pytest.raises(InvalidInputError):
            npm.package_name(bad)


def test_a_document_without_versions_object_is_a_bad_upstream() -> None:
    with pytest.raises(BadUpstreamError):
        npm.check_packument({"versions": []}, "x")
    with pytest.raises(BadUpstreamError):
        npm.check_packument("<html>", "x")
