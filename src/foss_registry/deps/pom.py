"""Maven project files (``pom.xml``): the dependencies a project declares.

Listed: ``<dependencies>`` of the project and of its ``<profiles>``. Not listed:
``<dependencyManagement>`` entries, which only fix versions for dependencies
declared elsewhere (listing them would flag artifacts the project may never
use); they are used instead to fill in the version of a declared dependency
that has none. ``${property}`` references are resolved from the file's own
``<properties>`` and the project's coordinates (``${project.version}``, falling
back to the parent's); anything else (a parent POM's properties, a BOM import,
a version range) leaves the dependency unpinned with a note.

The standard library's XML parser expands internal entities, so a document
type declaration is refused outright rather than risk a "billion laughs" file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from foss_registry.deps.base import Dependency, DependencyFileError, one_line, pinned, unpinned

NAME = "pom.xml"
DESCRIPTION = "pom.xml"

_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_PROPERTY = re.compile(r"\$\{([^}]*)\}")
# Properties may refer to properties; a bound keeps a cycle from looping forever.
_MAX_PASSES = 10


def matches(path: Path, head: bytes) -> bool:
    """Return whether the file is a POM by name, or an XML file with a Maven project root."""
    name = path.name.lower()
    if name == "pom.xml" or name.endswith(".pom"):
        return True
    return name.endswith(".xml") and b"<project" in head and b"maven.apache.org/POM" in head


def parse(path: Path, text: str, skipped: list[str]) -> list[Dependency]:
    """Return the dependencies the POM declares, with versions resolved where possible."""
    if _DOCTYPE.search(text):
        raise DependencyFileError(
            f"{path}: XML document type declarations are not accepted in a pom.xml"
        )
    if not text.strip():
        raise DependencyFileError(f"{path}: is empty")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise DependencyFileError(f"{path}: invalid XML (truncated file?): {exc}") from None
    if _local(root.tag) != "project":
        raise DependencyFileError(f"{path}: the root element is not a Maven <project>")
    props = _properties(root)
    managed: dict[str, str] = {}
    management = _child(_child(root, "dependencyManagement"), "dependencies")
    for dep in _children(management, "dependency"):
        group, artifact, version = (_text(dep, t) for t in ("groupId", "artifactId", "version"))
        if group and artifact and version:
            managed[f"{_resolve(group, props)}:{_resolve(artifact, props)}"] = version
    lines = _dependency_lines(text, root)
    out: list[Dependency] = []
    for dep, profile in _declared(root):
        result = _dependency(path, dep, profile, props, managed, skipped)
        if result is not None:
            out.append(replace(result, line=lines.get(dep)))
    return out


# Comments are blanked (newlines kept) before looking for tags: one may hold a <dependency>.
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_DEPENDENCY_TAG = re.compile(r"<(?:[\w.-]+:)?dependency[\s/>]")


def _dependency_lines(text: str, root: ET.Element) -> dict[ET.Element, int]:
    """The line of each ``<dependency>`` element (ElementTree keeps no positions).

    The tags are found in the text, comments and CDATA aside, in document
    order, which is the order ``root.iter()`` visits the elements; when the
    counts differ (something unusual in the file) no lines are given.
    """
    visible = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    visible = _CDATA.sub(lambda m: "\n" * m.group(0).count("\n"), visible)
    elements = [e for e in root.iter() if isinstance(e.tag, str) and _local(e.tag) == "dependency"]
    starts = [m.start() for m in _DEPENDENCY_TAG.finditer(visible)]
    if len(starts) != len(elements):
        return {}
    lines: dict[ET.Element, int] = {}
    line, previous = 1, 0
    for element, start in zip(elements, starts, strict=True):
        line += visible.count("\n", previous, start)
        previous = start
        lines[element] = line
    return lines


_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.S)


def _local(tag: str) -> str:
    """Return a tag without its namespace: POMs may or may not declare the Maven one."""
    return tag.rsplit("}", 1)[-1]


def _child(elem: ET.Element | None, name: str) -> ET.Element | None:
    if elem is None:
        return None
    for child in elem:
        if isinstance(child.tag, str) and _local(child.tag) == name:
            return child
    return None


def _children(elem: ET.Element | None, name: str) -> list[ET.Element]:
    if elem is None:
        return []
    return [c for c in elem if isinstance(c.tag, str) and _local(c.tag) == name]


def _text(elem: ET.Element | None, name: str) -> str | None:
    child = _child(elem, name)
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


def _properties(root: ET.Element) -> dict[str, str]:
    props: dict[str, str] = {}
    parent = _child(root, "parent")
    coordinates = {
        "groupId": _text(root, "groupId") or _text(parent, "groupId"),
        "artifactId": _text(root, "artifactId"),
        "version": _text(root, "version") or _text(parent, "version"),
    }
    for key, value in coordinates.items():
        if value is not None:
            # ``${pom.version}`` and bare ``${version}`` are Maven 2 spellings, still seen.
            props[f"project.{key}"] = props[f"pom.{key}"] = props[key] = value
    for key in ("groupId", "artifactId", "version"):
        value = _text(parent, key)
        if value is not None:
            props[f"project.parent.{key}"] = value
    block = _child(root, "properties")
    for prop in block if block is not None else []:
        if isinstance(prop.tag, str):
            props[_local(prop.tag)] = (prop.text or "").strip()
    return props


def _resolve(value: str, props: dict[str, str]) -> str:
    for _ in range(_MAX_PASSES):
        new = _PROPERTY.sub(lambda m: props.get(m.group(1), m.group(0)), value)
        if new == value:
            break
        value = new
    return value


def _declared(root: ET.Element) -> list[tuple[ET.Element, str | None]]:
    found: list[tuple[ET.Element, str | None]] = [
        (dep, None) for dep in _children(_child(root, "dependencies"), "dependency")
    ]
    for profile in _children(_child(root, "profiles"), "profile"):
        profile_id = _text(profile, "id") or "(no id)"
        found.extend(
            (dep, profile_id)
            for dep in _children(_child(profile, "dependencies"), "dependency")
        )
    return found


def _dependency(
    path: Path,
    dep: ET.Element,
    profile: str | None,
    props: dict[str, str],
    managed: dict[str, str],
    skipped: list[str],
) -> Dependency | None:
    group = _resolve(_text(dep, "groupId") or "", props)
    artifact = _resolve(_text(dep, "artifactId") or "", props)
    if not group or not artifact or "${" in group or "${" in artifact:
        skipped.append(f"{path}: dependency {group or '?'}:{artifact or '?'} has no usable name")
        return None
    name = f"{group}:{artifact}"
    notes: list[str] = []
    scope = _text(dep, "scope")
    if scope and scope != "compile":
        notes.append(f"scope {scope}")
    if _text(dep, "optional") == "true":
        notes.append("optional")
    if profile is not None:
        notes.append(f"profile {profile}")
    raw = _text(dep, "version")
    if raw is None and name in managed:
        raw = managed[name]
        notes.append("version from dependencyManagement")
    if raw is None:
        notes.insert(0, "no version: managed by a parent POM or an imported BOM")
        return unpinned(name, "maven", path, "; ".join(notes))
    version = _resolve(raw, props)
    unresolved = _PROPERTY.search(version)
    if unresolved:
        notes.insert(0, f"unresolved property {unresolved.group(0)} (from a parent POM?)")
        return unpinned(name, "maven", path, "; ".join(notes))
    if not version:
        notes.insert(0, f"empty version {raw}")
        return unpinned(name, "maven", path, "; ".join(notes))
    if version[0] in "[(" or "," in version:
        notes.insert(0, f"version range {one_line(version)}")
        return unpinned(name, "maven", path, "; ".join(notes))
    return pinned(name, version, "maven", path, "; ".join(notes) or None)
