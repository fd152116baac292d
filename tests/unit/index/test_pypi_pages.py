"""The PyPI index pages: filtering to approved versions, pass-through fields, negotiation."""

from __future__ import annotations

import pytest
from packaging.version import Version

from foss_registry.errors import InvalidInputError
from foss_registry.index import pypi
from foss_registry.index.errors import BadUpstreamError, NotAcceptableError

UPSTREAM = {
    "meta": {"api-version": "1.1"},
    "name": "demo-pkg",
    "versions": ["1.0", "2.0.0rc1", "2.0.0"],
    "files": [
        {
            "filename": "demo_pkg-1.0-py3-none-any.whl",
            "url": "https://up.example/files/demo_pkg-1.0-py3-none-any.whl#sha256=00",
            "hashes": {"sha256": "a" * 64, "md5": "b" * 32},
            "requires-python": ">=3.8",
            "upload-time": "2024-01-02T03:04:05Z",
            "core-metadata": {"sha256": "c" * 64},
            "size": 10,
        },
        {
            "filename": "Demo.Pkg-1.0.tar.gz",
            "url": "../../files/Demo.Pkg-1.0.tar.gz",
            "hashes": {"sha256": "d" * 64},
            "yanked": "broken build",
            "size": 20,
        },
        {
            "filename": "demo_pkg-2.0.0-py3-none-any.whl",
            "url": "https://up.example/files/demo_pkg-2.0.0-py3-none-any.whl",
            "hashes": {"sha256": "e" * 64},
            "size": 30,
        },
        {
            "filename": "other-1.0.tar.gz",
            "url": "https://up.example/files/other-1.0.tar.gz",
            "hashes": {"sha256": "f" * 64},
            "size": 40,
        },
    ],
}


def page() -> pypi.ProjectPage:
    return pypi.parse_project_page(UPSTREAM, "https://up.example/simple/demo-pkg/", "demo-pkg")


def test_a_file_version_comes_from_its_name_and_belongs_to_the_project() -> None:
    assert pypi.file_version("demo_pkg-1.0-py3-none-any.whl", "demo-pkg") == Version("1.0")
    assert pypi.file_version("Demo.Pkg-1.0.tar.gz", "demo-pkg") == Version("1.0")
    assert pypi.file_version("demo-pkg-0.9-py2.7.egg", "demo-pkg") == Version("0.9")
    assert pypi.file_version("demo-pkg-0.8.tar.bz2", "demo-pkg") == Version("0.8")
    assert pypi.file_version("other-1.0.tar.gz", "demo-pkg") is None
    assert pypi.file_version("demo_pkg-1.0-py3-none-any.exe.txt", "demo-pkg") is None


def test_only_files_of_approved_versions_are_listed_with_their_fields() -> None:
    parsed = page()
    files = pypi.approved_files(parsed, {"1"})  # 1.0 stored canonically as "1"
    assert [f.filename for f in files] == ["demo_pkg-1.0-py3-none-any.whl", "Demo.Pkg-1.0.tar.gz"]
    body = pypi.render_json(parsed, files, ["1"])
    import json

    doc = json.loads(body)
    wheel, sdist = doc["files"]
    assert wheel["url"] == "../demo-pkg/demo_pkg-1.0-py3-none-any.whl"
    assert wheel["hashes"] == {"sha256": "a" * 64, "md5": "b" * 32}
    assert wheel["requires-python"] == ">=3.8"
    assert wheel["upload-time"] == "2024-01-02T03:04:05Z"
    assert wheel["core-metadata"] == {"sha256": "c" * 64}
    assert sdist["yanked"] == "broken build"
    assert "2.0.0" not in body.decode() and doc["versions"] == ["1"]


def test_html_page_carries_hash_fragment_and_data_attributes_escaped() -> None:
    parsed = page()
    html = pypi.render_html(parsed, pypi.approved_files(parsed, {"1"})).decode()
    assert f'href="../demo-pkg/demo_pkg-1.0-py3-none-any.whl#sha256={"a" * 64}"' in html
    assert 'data-requires-python="&gt;=3.8"' in html
    assert f'data-core-metadata="sha256={"c" * 64}"' in html
    assert 'data-yanked="broken build"' in html
    assert "2.0.0" not in html and "other-1.0" not in html


def test_a_page_that_is_not_pep_691_is_a_bad_upstream() -> None:
    with pytest.raises(BadUpstreamError):
        pypi.parse_project_page({"files": "nope"}, "https://up.example/", "demo-pkg")
    with pytest.raises(BadUpstreamError):
        pypi.parse_project_page(["<html>"], "https://up.example/", "demo-pkg")


def test_upstream_files_with_unsafe_names_are_dropped() -> None:
    data = {"name": "x", "files": [{"filename": "../../etc/passwd", "url": "https://u/x"}]}
    assert pypi.parse_project_page(data, "https://u/", "x").files == ()


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, pypi.LEGACY_HTML_TYPE),
        ("*/*", pypi.HTML_TYPE),
        (
            "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
            "text/html; q=0.01",
            pypi.JSON_TYPE,
        ),
        ("text/html", pypi.LEGACY_HTML_TYPE),
        ("application/vnd.pypi.simple.v1+json;q=0.5, text/html", pypi.LEGACY_HTML_TYPE),
    ],
)
def test_accept_negotiation(accept: str | None, chosen: str) -> None:
    assert pypi.negotiate(accept) == chosen


def test_accepting_neither_format_is_406() -> None:
    with pytest.raises(NotAcceptableError):
        pypi.negotiate("application/json")
    with pytest.raises(NotAcceptableError):
        pypi.negotiate("text/html;q=0")


@pytest.mark.parametrize("raw", ["..", "a/b", "x" * 10_000, "-lead", "", "name%2e"])
def test_bad_project_names_are_400(raw: str) -> None:
    with pytest.raises(InvalidInputError):
        pypi.project_name(raw)


def test_any_pep_503_spelling_is_the_normalised_name() -> None:
    assert pypi.project_name("Zope.Interface") == pypi.project_name("zope__interface")


@pytest.mark.parametrize("raw", ["..", "a..whl", ".hidden", "a/b.whl", "a\\b.whl", "x" * 300])
def test_bad_file_names_are_400(raw: str) -> None:
    with pytest.raises(InvalidInputError):
        pypi.check_filename(raw)
