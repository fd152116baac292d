"""Maven through a repository's folder layout: ``maven-metadata.xml`` for the versions and
the POM for the facts (``licenses``, ``scm``, ``url``, ``dependencies``), with what the POM
inherits from its parent POMs.

A POM often states little itself: an Apache Commons component names no license,
its parent ``commons-parent`` none either, and the license comes from
``org.apache:apache``. The reader follows ``<parent>`` up to
:data:`MAX_PARENT_DEPTH` levels from the same repository (each parent read once
per run) and merges the chain as Maven builds the effective POM: the nearest
``licenses`` win, ``url`` and ``scm`` are inherited with the child's artifactId
appended (unless ``child.*.inherit.append.path="false"``), ``properties`` and
``dependencies`` are merged child first, and ``dependencyManagement`` supplies
missing versions. BOMs imported with ``<scope>import</scope>`` are not read.

XML is parsed with defusedxml, which refuses DTDs and entities (an entity bomb
is an ``unavailable`` answer, never a parse that eats the memory).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from foss_registry.upstream.base import Upstream, text_or_none
from foss_registry.upstream.http import NotFoundError, UnavailableError
from foss_registry.upstream.models import Dependency, UpstreamFacts, UpstreamFile

#: POMs and metadata files larger than this are refused.
MAX_XML_BYTES = 4 * 1024 * 1024
#: Parent POMs followed at most (real chains are two or three deep).
MAX_PARENT_DEPTH = 10
_PROPERTY = re.compile(r"\$\{([^}]+)\}")
#: Expansions of properties that name other properties, at most.
_EXPAND_ROUNDS = 8

Coordinates = tuple[str, str, str]


def parse_xml(body: bytes, url: str) -> Element:
    """Parse XML refusing DTDs and entities; ``UnavailableError`` with the reason otherwise."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UnavailableError(
            f"the XML declares a DTD or entities; refused ({type(exc).__name__})", url=url
        ) from exc
    except ParseError as exc:
        raise UnavailableError(f"the XML does not parse: {exc}", url=url) from exc
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]
    return root


def _text(element: Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path)
    return text_or_none(found.text) if found is not None else None


def _append_flag(element: Element | None, attribute: str) -> bool | None:
    """A ``child.*.inherit.append.path`` attribute: True, False, or None when not set."""
    if element is None or attribute not in element.attrib:
        return None
    return element.attrib[attribute].strip().lower() != "false"


def coordinates(name: str) -> tuple[str, str]:
    """``groupId:artifactId`` split in two."""
    group, _, artifact = name.partition(":")
    if not group or not artifact:
        raise NotFoundError(f"{name!r} is not groupId:artifactId")
    return group, artifact


def versions_from_metadata(root: Element) -> list[str]:
    """The versions a ``maven-metadata.xml`` lists."""
    return [v.text.strip() for v in root.iterfind("versioning/versions/version") if v.text]


@dataclass(frozen=True)
class PomDependency:
    """A ``<dependency>`` as written, properties not yet expanded."""

    group: str
    artifact: str
    version: str | None
    scope: str | None
    optional: bool
    type: str | None = None
    classifier: str | None = None

    def key(self) -> tuple[str, str, str, str]:
        """What Maven identifies a dependency by (groupId, artifactId, type, classifier)."""
        return (self.group, self.artifact, self.type or "jar", self.classifier or "")


def _dependencies(element: Element | None) -> tuple[PomDependency, ...]:
    found = []
    for dep in element.iterfind("dependency") if element is not None else ():
        group, artifact = _text(dep, "groupId"), _text(dep, "artifactId")
        if group and artifact:
            found.append(
                PomDependency(
                    group=group,
                    artifact=artifact,
                    version=_text(dep, "version"),
                    scope=(_text(dep, "scope") or "").lower() or None,
                    optional=(_text(dep, "optional") or "").lower() == "true",
                    type=_text(dep, "type"),
                    classifier=_text(dep, "classifier"),
                )
            )
    return tuple(found)


@dataclass(frozen=True)
class Pom:
    """What one POM states itself, before anything is inherited."""

    group: str | None
    artifact: str | None
    version: str | None
    packaging: str | None
    parent: Coordinates | None
    properties: dict[str, str]
    licenses: tuple[str, ...]
    url: str | None
    scm_url: str | None
    scm_connection: str | None
    #: ``child.project.url.inherit.append.path`` and the ``scm`` ones (None: not set).
    url_append: bool | None
    scm_url_append: bool | None
    scm_connection_append: bool | None
    dependencies: tuple[PomDependency, ...]
    managed: tuple[PomDependency, ...]


def read_pom(root: Element) -> Pom:
    """The parts of a parsed POM that the facts come from."""
    props = root.find("properties")
    properties = (
        {p.tag: (p.text or "").strip() for p in props if isinstance(p.tag, str)}
        if props is not None
        else {}
    )
    parent_element = root.find("parent")
    parent = None
    if parent_element is not None:
        group, artifact = _text(parent_element, "groupId"), _text(parent_element, "artifactId")
        version = _text(parent_element, "version")
        if group and artifact and version:
            parent = (group, artifact, version)
    scm = root.find("scm")
    return Pom(
        # A POM without a groupId or version takes its parent's (as Maven does).
        group=_text(root, "groupId") or _text(parent_element, "groupId"),
        artifact=_text(root, "artifactId"),
        version=_text(root, "version") or _text(parent_element, "version"),
        packaging=_text(root, "packaging"),
        parent=parent,
        properties=properties,
        licenses=tuple(
            name for lic in root.iterfind("licenses/license") if (name := _text(lic, "name"))
        ),
        url=_text(root, "url"),
        scm_url=_text(scm, "url"),
        scm_connection=_text(scm, "connection"),
        url_append=_append_flag(root, "child.project.url.inherit.append.path"),
        scm_url_append=_append_flag(scm, "child.scm.url.inherit.append.path"),
        scm_connection_append=_append_flag(scm, "child.scm.connection.inherit.append.path"),
        dependencies=_dependencies(root.find("dependencies")),
        managed=_dependencies(root.find("dependencyManagement/dependencies")),
    )


def _inherited(chain: Sequence[Pom], value: str, flag: str) -> str | None:
    """A URL-like element as Maven inherits it: the nearest one declared, with the
    artifactId of each POM below it appended unless the flag (itself inherited) says not."""
    for level, pom in enumerate(chain):
        declared: str | None = getattr(pom, value)
        if declared is None:
            continue
        for below in range(level - 1, -1, -1):
            append = next(
                (f for p in chain[below + 1 :] if (f := getattr(p, flag)) is not None), True
            )
            artifact = chain[below].artifact
            if append and artifact:
                declared = declared.rstrip("/") + "/" + artifact
        return declared
    return None


def _properties(chain: Sequence[Pom]) -> dict[str, str]:
    """The properties the child sees: its parents', overridden nearer, and the project's own."""
    merged: dict[str, str] = {}
    for pom in reversed(chain):
        merged.update(pom.properties)
    child = chain[0]
    parent = child.parent
    own = {
        "groupId": child.group or "",
        "artifactId": child.artifact or "",
        "version": child.version or "",
    }
    if parent is not None:
        own |= {
            "parent.groupId": parent[0],
            "parent.artifactId": parent[1],
            "parent.version": parent[2],
        }
    for key, value in own.items():
        for prefix in ("project.", "pom.", ""):
            merged.setdefault(prefix + key, value)
    return merged


def effective_facts(
    chain: Sequence[Pom],
    *,
    source: str,
    released_at: Any = None,
    files: list[UpstreamFile],
) -> UpstreamFacts:
    """The facts of the first POM of ``chain`` with what it inherits from the rest (its
    parent, the parent's parent, …)."""
    properties = _properties(chain)

    def expand(value: str | None) -> str | None:
        for _ in range(_EXPAND_ROUNDS):
            if value is None or "${" not in value:
                break
            expanded = _PROPERTY.sub(lambda m: properties.get(m.group(1), m.group(0)), value)
            if expanded == value:
                break
            value = expanded
        return value

    licenses = next((pom.licenses for pom in chain if pom.licenses), ())
    managed: dict[tuple[str, str], PomDependency] = {}
    for pom in chain:  # the nearest management of a dependency wins
        for dep in pom.managed:
            if dep.scope != "import":
                managed.setdefault((expand(dep.group) or "", expand(dep.artifact) or ""), dep)
    declared: dict[tuple[str, str, str, str], PomDependency] = {}
    for pom in chain:  # a child's declaration replaces its parent's
        for dep in pom.dependencies:
            declared.setdefault(dep.key(), dep)
    deps = []
    for dep in declared.values():
        group, artifact = expand(dep.group) or "", expand(dep.artifact) or ""
        management = managed.get((group, artifact))
        version = dep.version or (management.version if management else None)
        scope = dep.scope or (management.scope if management else None) or "compile"
        if dep.optional:
            kind = "optional"
        elif scope == "test":
            kind = "test"
        else:
            kind = "runtime"
        deps.append(
            Dependency(name=f"{group}:{artifact}", requirement=expand(version) or "", scope=kind)
        )
    repository = _inherited(chain, "scm_url", "scm_url_append")
    if repository is None:
        connection = _inherited(chain, "scm_connection", "scm_connection_append")
        if connection:
            repository = re.sub(r"^scm:[a-z]+:", "", connection)
    return UpstreamFacts(
        source=source,
        license_raw=expand(" OR ".join(licenses)) if licenses else None,
        released_at=released_at,
        homepage=expand(_inherited(chain, "url", "url_append")),
        repository=expand(repository),
        dependencies=deps,
        files=files,
    )


def facts_from_pom(
    root: Element, *, source: str, released_at: Any = None, files: list[UpstreamFile]
) -> UpstreamFacts:
    """The facts one POM states by itself (its parents are not read)."""
    return effective_facts([read_pom(root)], source=source, released_at=released_at, files=files)


class MavenUpstream(Upstream):
    """A Maven repository (Central, a mirror, a repository manager) read by its folder layout.

    Parent POMs are read once per reader: one reader serves one enrichment, or
    a whole run of ``foss enrich``, where most artifacts share a few parents.
    """

    ecosystem = "maven"

    def artifact_url(self, name: str) -> str:
        """The folder of an artifact: the group's dots as slashes, then the artifact."""
        group, artifact = coordinates(name)
        return f"{self.base_url}{group.replace('.', '/')}/{artifact}/"

    def pom_url(self, name: str, version: str) -> str:
        """The URL of a version's POM."""
        artifact = coordinates(name)[1]
        return f"{self.artifact_url(name)}{version}/{artifact}-{version}.pom"

    async def versions(self, name: str) -> list[str]:
        """The versions the artifact's ``maven-metadata.xml`` lists (read once per reader)."""
        url = self.artifact_url(name) + "maven-metadata.xml"

        async def read() -> list[str]:
            response = await self.http.get(url, max_bytes=MAX_XML_BYTES)
            return versions_from_metadata(parse_xml(response.body, url))

        return await self.once(url, read)

    async def _read_parent(self, parent: Coordinates) -> Pom:
        url = self.pom_url(f"{parent[0]}:{parent[1]}", parent[2])
        response = await self.http.get(url, max_bytes=MAX_XML_BYTES)
        return read_pom(parse_xml(response.body, url))

    async def parent(self, parent: Coordinates) -> Pom:
        """A parent POM by its coordinates, read once by this reader (concurrent askers share
        the one request)."""
        return await self.once(":".join(parent), lambda: self._read_parent(parent))

    async def ancestors(self, pom: Pom) -> list[Pom]:
        """The parent POMs of a POM, nearest first.

        Stops at :data:`MAX_PARENT_DEPTH`, at a cycle, at a version that is not
        a plain version (a range or a property), and at a parent the repository
        does not have (the POMs read so far still count). A parent that cannot
        be read (unavailable, or XML that is refused) makes the whole answer
        unavailable: its facts would be missing without a word.
        """
        chain: list[Pom] = []
        seen: set[Coordinates] = set()
        current = pom
        while current.parent is not None and len(chain) < MAX_PARENT_DEPTH:
            wanted = current.parent
            if wanted in seen or "${" in wanted[2] or wanted[2][:1] in "[(":
                break
            seen.add(wanted)
            try:
                current = await self.parent(wanted)
            except NotFoundError:
                break
            chain.append(current)
        return chain

    async def facts(self, name: str, version: str) -> UpstreamFacts:
        """Facts of one version from its POM and its parents (the metadata file says whether
        the version exists)."""
        known = await self.versions(name)
        url = self.pom_url(name, version)
        if version not in known:
            raise NotFoundError(f"maven-metadata.xml lists no version {version}", url=url)
        response = await self.http.get(url, max_bytes=MAX_XML_BYTES)
        pom = read_pom(parse_xml(response.body, url))
        released = None
        if response.headers.get("last-modified"):
            try:
                released = parsedate_to_datetime(response.headers["last-modified"])
            except (TypeError, ValueError):
                released = None
        artifact = coordinates(name)[1]
        files = [
            UpstreamFile(
                filename=f"{artifact}-{version}.pom",
                kind="pom",
                url=url,
                sha256=hashlib.sha256(response.body).hexdigest(),
            )
        ]
        # Packaging is the POM's own (Maven does not inherit it).
        if (pom.packaging or "jar") in ("jar", "bundle", "maven-plugin"):
            jar = f"{artifact}-{version}.jar"
            jar_url = url.rsplit("/", 1)[0] + "/" + jar
            files.append(UpstreamFile(filename=jar, kind="jar", url=jar_url))
        chain = [pom, *await self.ancestors(pom)]
        return effective_facts(chain, source=url, released_at=released, files=files)
