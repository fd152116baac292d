"""Maven facts inherited from parent POMs, read from the fake repository on loopback.

The Apache Commons chain (commons-lang3 → commons-parent → apache) is served
from fixture POMs in the real shape: the component names no license, its
parent none either, and the license comes from the ASF parent two levels up.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from foss_registry.upstream import (
    HttpLimits,
    MavenUpstream,
    UnavailableError,
    UpstreamHttp,
    run_sync,
)
from foss_registry.upstream.maven import MAX_PARENT_DEPTH
from tests.fakes.upstream import FakeUpstream

FAST = HttpLimits(timeout=0.5, deadline=1.0, retries=1, backoff=0.01, max_bytes=1024 * 1024)
POM_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">'


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


def pom(group: str, artifact: str, version: str, body: str = "", *, parent: tuple[str, str, str] | None = None,
        attributes: str = "") -> bytes:
    head = POM_HEAD.replace("<project ", f"<project {attributes} ") if attributes else POM_HEAD
    parent_xml = (
        f"<parent><groupId>{parent[0]}</groupId><artifactId>{parent[1]}</artifactId>"
        f"<version>{parent[2]}</version></parent>" if parent else ""
    )
    return (
        f"{head}<modelVersion>4.0.0</modelVersion>{parent_xml}<groupId>{group}</groupId>"
        f"<artifactId>{artifact}</artifactId><version>{version}</version>{body}</project>"
    ).encode()


def facts(fake: FakeUpstream, *names: tuple[str, str]):
    """The facts of each (name, version), asked through one reader (as one run asks)."""
    async def go():
        async with UpstreamHttp(FAST) as http:
            reader = MavenUpstream(fake.maven_url, http)
            return [await reader.facts(name, version) for name, version in names]

    return run_sync(go())


def test_commons_component_gets_the_license_of_the_asf_parent_two_levels_up(fake: FakeUpstream) -> None:
    fake.add_apache_commons()
    [lang] = facts(fake, ("org.apache.commons:commons-lang3", "3.14.0"))
    assert lang.license_raw == "Apache-2.0"
    # Its own url and scm stand; the parents' are not appended to or mixed in.
    assert lang.homepage == "https://commons.apache.org/proper/commons-lang/"
    assert lang.repository == "https://gitbox.apache.org/repos/asf?p=commons-lang.git"
    deps = {d.name: (d.requirement, d.scope) for d in lang.dependencies}
    assert deps["org.openjdk.jmh:jmh-core"] == ("1.37", "test")  # its own property
    assert deps["org.hamcrest:hamcrest"] == ("2.2", "test")
    # Managed by the junit BOM the parent imports, which is not read: no version, never a guess.
    assert deps["org.junit.jupiter:junit-jupiter"] == ("", "test")
    assert [f.kind for f in lang.files] == ["pom", "jar"]
    assert fake.count("/maven/org/apache/commons/commons-parent/64/") == 1
    assert fake.count("/maven/org/apache/apache/30/") == 1


def test_a_run_reads_each_parent_once(fake: FakeUpstream) -> None:
    fake.add_apache_commons()
    fake.add_maven("org.apache.commons:commons-text", "1.11.0", pom=pom(
        "org.apache.commons", "commons-text", "1.11.0",
        "<url>https://commons.apache.org/proper/commons-text</url>",
        parent=("org.apache.commons", "commons-parent", "64")))
    text, lang = facts(fake, ("org.apache.commons:commons-text", "1.11.0"),
                       ("org.apache.commons:commons-lang3", "3.14.0"))
    assert text.license_raw == lang.license_raw == "Apache-2.0"
    assert fake.count("/maven/org/apache/commons/commons-parent/64/") == 1
    assert fake.count("/maven/org/apache/apache/30/") == 1


COMPANY_PARENT = pom("com.acme", "acme-parent", "7", """
  <packaging>pom</packaging>
  <url>https://code.acme.example.internal/java</url>
  <licenses><license><name>The Apache Software License, Version 2.0</name></license></licenses>
  <scm><url>https://git.acme.example.internal/java</url></scm>
  <properties><slf4j.version>2.0.9</slf4j.version><guava.version>32.1.3-jre</guava.version></properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>${slf4j.version}</version></dependency>
    <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId><version>${guava.version}</version><scope>provided</scope></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId></dependency>
  </dependencies>""")


def test_company_parent_gives_license_urls_and_managed_versions(fake: FakeUpstream) -> None:
    fake.add_maven("com.acme:acme-parent", "7", pom=COMPANY_PARENT)
    fake.add_maven("com.acme:billing", "1.4.0", pom=pom("com.acme", "billing", "1.4.0", """
      <properties><slf4j.version>2.0.12</slf4j.version></properties>
      <dependencies>
        <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId></dependency>
        <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId></dependency>
      </dependencies>""", parent=("com.acme", "acme-parent", "7")))
    [billing] = facts(fake, ("com.acme:billing", "1.4.0"))
    assert billing.license_raw == "The Apache Software License, Version 2.0"
    # Inherited as Maven inherits them: the parent's URL with the child's artifactId appended.
    assert billing.homepage == "https://code.acme.example.internal/java/billing"
    assert billing.repository == "https://git.acme.example.internal/java/billing"
    assert [(d.name, d.requirement, d.scope) for d in billing.dependencies] == [
        ("org.slf4j:slf4j-api", "2.0.12", "runtime"),  # the child's property wins
        ("com.google.guava:guava", "32.1.3-jre", "runtime"),  # provided counts as runtime
        ("junit:junit", "4.13.2", "test"),  # declared by the parent, managed there
    ]


def test_append_path_false_keeps_the_parents_url(fake: FakeUpstream) -> None:
    fake.add_maven("com.acme:site-parent", "1", pom=pom(
        "com.acme", "site-parent", "1",
        '<packaging>pom</packaging><url>https://acme.example.internal/</url>'
        '<scm child.scm.url.inherit.append.path="false"><url>https://git.acme.example.internal/mono</url></scm>',
        attributes='child.project.url.inherit.append.path="false"'))
    fake.add_maven("com.acme:tool", "2.0", pom=pom(
        "com.acme", "tool", "2.0", parent=("com.acme", "site-parent", "1")))
    [tool] = facts(fake, ("com.acme:tool", "2.0"))
    assert tool.homepage == "https://acme.example.internal/"
    assert tool.repository == "https://git.acme.example.internal/mono"


def test_missing_parent_leaves_the_pom_own_facts(fake: FakeUpstream) -> None:
    fake.add_maven("com.acme:orphan", "1.0", pom=pom(
        "com.acme", "orphan", "1.0", "<licenses><license><name>MIT</name></license></licenses>",
        parent=("com.acme", "gone-parent", "3")))
    [orphan] = facts(fake, ("com.acme:orphan", "1.0"))
    assert orphan.license_raw == "MIT"
    assert fake.count("/maven/com/acme/gone-parent/3/") == 1


def test_unreadable_parent_makes_the_answer_unavailable(fake: FakeUpstream) -> None:
    fake.add_apache_commons()
    fake.misbehave("status", "/maven/org/apache/apache/", 503)
    with pytest.raises(UnavailableError, match="503"):
        facts(fake, ("org.apache.commons:commons-lang3", "3.14.0"))
    fake.behave()
    fake.add_entity_bomb_pom("org.evil:bomb-parent", "1")
    fake.add_maven("org.evil:child", "1.0", pom=pom("org.evil", "child", "1.0", parent=("org.evil", "bomb-parent", "1")))
    with pytest.raises(UnavailableError, match="DTD or entities"):
        facts(fake, ("org.evil:child", "1.0"))


def test_parent_cycle_and_depth_are_bounded(fake: FakeUpstream) -> None:
    fake.add_maven("com.loop:a", "1", pom=pom("com.loop", "a", "1", "<packaging>pom</packaging>",
                                                parent=("com.loop", "b", "1")))
    fake.add_maven("com.loop:b", "1", pom=pom("com.loop", "b", "1", "<packaging>pom</packaging>",
                                                parent=("com.loop", "a", "1")))
    fake.add_maven("com.loop:lib", "1", pom=pom("com.loop", "lib", "1", parent=("com.loop", "a", "1")))
    [lib] = facts(fake, ("com.loop:lib", "1"))
    assert lib.license_raw is None
    assert fake.count("/maven/com/loop/a/1/") == 1 and fake.count("/maven/com/loop/b/1/") == 1
    # A chain longer than the bound: the levels past it are never asked for.
    levels = MAX_PARENT_DEPTH + 3
    for level in range(levels):
        parent = ("com.deep", f"p{level + 1}", "1") if level + 1 < levels else None
        body = "<packaging>pom</packaging>" + (
            "<licenses><license><name>MIT</name></license></licenses>" if level + 1 == levels else "")
        fake.add_maven(f"com.deep:p{level}", "1", pom=pom("com.deep", f"p{level}", "1", body, parent=parent))
    [deep] = facts(fake, ("com.deep:p0", "1"))
    assert deep.license_raw is None
    assert fake.count(f"/maven/com/deep/p{MAX_PARENT_DEPTH}/") == 1
    assert fake.count(f"/maven/com/deep/p{MAX_PARENT_DEPTH + 1}/") == 0
