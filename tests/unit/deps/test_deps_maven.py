from __future__ import annotations

from pathlib import Path

import pytest

from foss_registry.deps import Dependency, DependencyFileError, parse_file


def pin(name: str, version: str, source: Path, note: str | None = None) -> Dependency:
    return Dependency(name, version, "maven", str(source), True, note)


def loose(name: str, source: Path, note: str) -> Dependency:
    return Dependency(name, None, "maven", str(source), False, note)


def test_pom_with_properties_and_dependency_management(deps_fixtures: Path) -> None:
    path = deps_fixtures / "maven" / "pom.xml"
    assert parse_file(path) == [
        # ${jackson.databind.version} -> ${jackson.version} -> 2.16.1
        pin("com.fasterxml.jackson.core:jackson-databind", "2.16.1", path),
        pin("org.slf4j:slf4j-api", "2.0.12", path),
        pin("com.google.guava:guava", "33.0.0-jre", path, "version from dependencyManagement"),
        # ${project.groupId} falls back to the parent's groupId; ${project.version} is the POM's.
        pin("com.acme.platform:orders-api", "3.1.0-SNAPSHOT", path),
        pin("com.acme.platform:platform-security", "5.2.0", path),
        loose(
            "org.postgresql:postgresql",
            path,
            "unresolved property ${postgresql.version} (from a parent POM?); scope runtime",
        ),
        loose("org.apache.commons:commons-lang3", path, "version range [3.12,4.0)"),
        pin("org.projectlombok:lombok", "1.18.30", path, "scope provided; optional"),
        loose(
            "org.junit.jupiter:junit-jupiter",
            path,
            "no version: managed by a parent POM or an imported BOM; scope test",
        ),
        pin("io.micrometer:micrometer-registry-prometheus", "1.12.3", path, "profile metrics"),
        # dependencyManagement entries (junit-bom, guava) and build plugins are not listed.
    ]


def test_pom_without_namespace_and_version_inherited_from_parent(tmp_path: Path) -> None:
    path = tmp_path / "pom.xml"
    path.write_text(
        "<project>\n"
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <parent><groupId>org.example</groupId><artifactId>parent</artifactId>"
        "<version>7.0.1</version></parent>\n"
        "  <artifactId>child</artifactId>\n"
        "  <properties><self>${self}</self></properties>\n"
        "  <dependencies>\n"
        "    <dependency><groupId>org.example</groupId><artifactId>sibling</artifactId>"
        "<version>${project.version}</version></dependency>\n"
        "    <dependency><groupId>org.example</groupId><artifactId>looping</artifactId>"
        "<version>${self}</version></dependency>\n"
        "  </dependencies>\n"
        "</project>\n"
    )
    assert parse_file(path) == [
        pin("org.example:sibling", "7.0.1", path),
        loose(
            "org.example:looping", path, "unresolved property ${self} (from a parent POM?)"
        ),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '<?xml version="1.0"?>\n<project><dependencies><dependency><groupId>a',
            "invalid XML (truncated file?): ",
        ),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n'
            "<project><version>&lol;</version></project>",
            "XML document type declarations are not accepted in a pom.xml",
        ),
        ("<settings><servers/></settings>", "the root element is not a Maven <project>"),
    ],
)
def test_bad_pom(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pom.xml"
    path.write_text(text)
    with pytest.raises(DependencyFileError) as caught:
        parse_file(path)
    assert caught.value.detail.startswith(f"{path}: {message}")
    assert "\n" not in caught.value.detail
