"""The upstream readers' pure parts: PEP 503 pages, metadata, packuments, POMs, the cache."""

from __future__ import annotations

import pytest

from foss_registry.upstream.http import CachedEntry, ResponseCache, UnavailableError, _same_origin
from foss_registry.upstream.maven import (
    effective_facts,
    facts_from_pom,
    parse_xml,
    read_pom,
    versions_from_metadata,
)
from foss_registry.upstream.npm import facts_from_packument, packument_path
from foss_registry.upstream.pypi import facts_from_metadata, file_version, page_from_html

PAGE = b"""<!DOCTYPE html><html><body>
<a href="../../files/demo/demo-1.0-py3-none-any.whl#sha256=abc" data-requires-python="&gt;=3.8"
   data-dist-info-metadata="sha256=def">demo-1.0-py3-none-any.whl</a>
<a href="https://files.example.internal/demo-1.0.tar.gz#sha256=123" data-yanked="">demo-1.0.tar.gz</a>
<a href="demo-0.9.zip" data-yanked="security hole" data-core-metadata="true">demo-0.9.zip</a>
</body></html>"""


def test_pep503_html_page_in_pep691_form() -> None:
    page = page_from_html(PAGE, "https://mirror.example.internal/simple/demo/", "Demo")
    wheel, sdist, old = page["files"]
    assert wheel["url"] == "https://mirror.example.internal/files/demo/demo-1.0-py3-none-any.whl"
    assert wheel["hashes"] == {"sha256": "abc"} and wheel["requires-python"] == ">=3.8"
    assert wheel["core-metadata"] == {"sha256": "def"} and wheel["yanked"] is False
    assert sdist["url"] == "https://files.example.internal/demo-1.0.tar.gz" and sdist["yanked"] is True
    assert old["yanked"] == "security hole" and old["core-metadata"] is True
    assert page["name"] == "demo"


def test_file_versions() -> None:
    assert file_version("demo_pkg-1.0.0-py3-none-any.whl")[0] == "wheel"
    assert str(file_version("demo-pkg-1.0.tar.gz")[1]) == "1.0"
    assert file_version("demo-1.0.exe") is None and file_version("not a wheel.whl") is None


def test_core_metadata_facts() -> None:
    metadata = (
        b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nLicense: BSD-3-Clause\n"
        b"Project-URL: Source Code, https://git.example.internal/demo\n"
        b"Requires-Dist: idna (>=2.5)\nRequires-Dist: pysocks!=1.5.7; extra == 'socks'\n"
        b"Requires-Dist: not a requirement ((\n\n"
    )
    facts = facts_from_metadata(metadata, source="s", files=[])
    assert facts.license_raw == "BSD-3-Clause"
    assert facts.repository == "https://git.example.internal/demo"
    assert [(d.name, d.requirement, d.scope) for d in facts.dependencies] == [
        ("idna", ">=2.5", "runtime"), ("pysocks", '!=1.5.7; extra == "socks"', "optional"),
    ]


def test_packument_facts_and_legacy_fields() -> None:
    doc = {
        "versions": {"1.0.0": {"licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}],
                               "repository": "github:acme/x", "gypfile": True,
                               "dist": {"tarball": "https://r.example.internal/x/-/x-1.0.0.tgz",
                                        "shasum": "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
                               "deprecated": True}},
        "time": {"1.0.0": "not a time"},
    }
    facts = facts_from_packument(doc, "1.0.0", source="s")
    assert facts.license_raw == "MIT OR Apache-2.0"
    assert facts.repository == "github:acme/x"
    assert [(s.name, s.command) for s in facts.install_scripts] == [("install", "node-gyp rebuild")]
    assert facts.files[0].integrity == "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="
    assert facts.deprecated == "deprecated" and facts.released_at is None
    assert packument_path("@types/node") == "@types%2fnode" and packument_path("lodash") == "lodash"


def test_pom_facts_with_properties_and_scopes() -> None:
    pom = b"""<project xmlns="http://maven.apache.org/POM/4.0.0">
      <parent><groupId>org.acme</groupId><version>3.0</version></parent>
      <artifactId>lib</artifactId><url>https://acme.example.internal/${project.version}</url>
      <properties><slf4j.version>2.0.9</slf4j.version></properties>
      <licenses><license><name>EPL-2.0</name></license><license><name>GPL-2.0 with Classpath exception</name></license></licenses>
      <scm><connection>scm:git:https://git.example.internal/lib.git</connection></scm>
      <dependencies>
        <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>${slf4j.version}</version></dependency>
        <dependency><groupId>org.acme</groupId><artifactId>extra</artifactId><version>1</version><optional>true</optional></dependency>
        <dependency><groupId>junit</groupId><artifactId>junit</artifactId><scope>test</scope></dependency>
      </dependencies></project>"""
    facts = facts_from_pom(parse_xml(pom, "u"), source="u", files=[])
    assert facts.license_raw == "EPL-2.0 OR GPL-2.0 with Classpath exception"
    assert facts.homepage == "https://acme.example.internal/3.0"
    assert facts.repository == "https://git.example.internal/lib.git"
    assert [(d.name, d.requirement, d.scope) for d in facts.dependencies] == [
        ("org.slf4j:slf4j-api", "2.0.9", "runtime"), ("org.acme:extra", "1", "optional"),
        ("junit:junit", "", "test"),
    ]
    metadata = b"<metadata><versioning><versions><version>1.0</version><version>1.1</version></versions></versioning></metadata>"
    assert versions_from_metadata(parse_xml(metadata, "u")) == ["1.0", "1.1"]


def test_effective_pom_inherits_through_every_level() -> None:
    def read(xml: str):
        return read_pom(parse_xml(f'<project xmlns="http://maven.apache.org/POM/4.0.0">{xml}</project>'.encode(), "u"))

    root = read("""<groupId>org.acme</groupId><artifactId>root</artifactId><version>1</version>
      <url>https://acme.example.internal/</url><scm><connection>scm:git:https://git.acme.example.internal/r.git</connection></scm>
      <licenses><license><name>Apache-2.0</name></license></licenses>
      <properties><lib.version>1.0</lib.version><site>https://docs.acme.example.internal/${project.artifactId}</site></properties>""")
    middle = read("""<parent><groupId>org.acme</groupId><artifactId>root</artifactId><version>1</version></parent>
      <artifactId>middle</artifactId><licenses><license><name>MIT</name></license></licenses>
      <properties><lib.version>2.0</lib.version></properties>
      <dependencies><dependency><groupId>org.acme</groupId><artifactId>lib</artifactId><version>${lib.version}</version></dependency></dependencies>""")
    leaf = read("""<parent><groupId>org.acme</groupId><artifactId>middle</artifactId><version>1</version></parent>
      <artifactId>leaf</artifactId><version>3.0</version><organization><url>${site}</url></organization>""")
    assert (leaf.group, leaf.version, leaf.parent) == ("org.acme", "3.0", ("org.acme", "middle", "1"))
    facts = effective_facts([leaf, middle, root], source="u", files=[])
    assert facts.license_raw == "MIT"  # the nearest licenses, not a union
    assert facts.homepage == "https://acme.example.internal/middle/leaf"
    assert facts.repository == "https://git.acme.example.internal/r.git/middle/leaf"
    assert [(d.name, d.requirement) for d in facts.dependencies] == [("org.acme:lib", "2.0")]
    # Alone, the leaf states nothing of this.
    alone = effective_facts([leaf], source="u", files=[])
    assert (alone.license_raw, alone.homepage, alone.dependencies) == (None, None, [])


@pytest.mark.parametrize(
    "xml",
    [
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><p>&a;</p>',
        b'<?xml version="1.0"?><!DOCTYPE p SYSTEM "http://evil.example.internal/x.dtd"><p/>',
        b"<p><unclosed></p>",
    ],
)
def test_xml_with_entities_dtds_or_errors_is_refused(xml: bytes) -> None:
    with pytest.raises(UnavailableError):
        parse_xml(xml, "u")


def test_response_cache_is_bounded_and_keeps_only_validated_bodies() -> None:
    cache = ResponseCache(max_bytes=10)
    cache.put("a", CachedEntry(None, None, {}, b"12345"))
    assert cache.get("a") is None  # no validator: nothing to revalidate with
    cache.put("a", CachedEntry('"1"', None, {}, b"12345"))
    cache.put("b", CachedEntry('"2"', None, {}, b"12345"))
    cache.get("a")  # a is now the most recently used
    cache.put("c", CachedEntry(None, "Tue, 02 Jan 2024 03:04:05 GMT", {}, b"123"))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    cache.put("huge", CachedEntry('"3"', None, {}, b"x" * 11))
    assert cache.get("huge") is None


def test_same_origin() -> None:
    assert _same_origin("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b/c")
    assert not _same_origin("http://127.0.0.1:8080/a", "http://localhost:8080/a")
    assert not _same_origin("https://mirror.example.internal/a", "http://mirror.example.internal/a")
    assert not _same_origin("http://h.example.internal/a", "http://h.example.internal:81/a")
