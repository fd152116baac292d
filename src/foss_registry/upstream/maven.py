"""Maven through a repository's folder layout: ``maven-metadata.xml`` for the versions and
the POM for the facts (``licenses``, ``scm``, ``url``, ``dependencies``).

XML is parsed with defusedxml, which refuses DTDs and entities (an entity bomb
is an ``unavailable`` answer, never a parse that eats the memory).
"""

from __future__ import annotations

import hashlib
import re
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
_PROPERTY = re.compile(r"\$\{([^}]+)\}")


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


def coordinates(name: str) -> tuple[str, str]:
    """``groupId:artifactId`` split in two."""
    group, _, artifact = name.partition(":")
    if not group or not artifact:
        raise NotFoundError(f"{name!r} is not groupId:artifactId")
    return group, artifact


def versions_from_metadata(root: Element) -> list[str]:
    """The versions a ``maven-metadata.xml`` lists."""
    return [v.text.strip() for v in root.iterfind("versioning/versions/version") if v.text]


def facts_from_pom(
    root: Element, *, source: str, released_at: Any = None, files: list[UpstreamFile]
) -> UpstreamFacts:
    """The facts a POM states (its parent's are not read)."""
    properties: dict[str, str] = {}
    props = root.find("properties")
    if props is not None:
        properties = {p.tag: (p.text or "").strip() for p in props if isinstance(p.tag, str)}
    version = _text(root, "version") or _text(root, "parent/version") or ""
    properties.setdefault("project.version", version)
    properties.setdefault("version", version)
    group = _text(root, "groupId") or _text(root, "parent/groupId") or ""
    properties.setdefault("project.groupId", group)

    def expand(value: str | None) -> str | None:
        if value is None:
            return None
        return _PROPERTY.sub(lambda m: properties.get(m.group(1), m.group(0)), value)

    licenses = [
        name for lic in root.iterfind("licenses/license") if (name := _text(lic, "name"))
    ]
    deps = []
    for dep in root.iterfind("dependencies/dependency"):
        dep_group, dep_artifact = _text(dep, "groupId"), _text(dep, "artifactId")
        if not dep_group or not dep_artifact:
            continue
        scope = (_text(dep, "scope") or "compile").lower()
        if (_text(dep, "optional") or "").lower() == "true":
            kind = "optional"
        elif scope == "test":
            kind = "test"
        else:
            kind = "runtime"
        deps.append(
            Dependency(
                name=f"{expand(dep_group)}:{expand(dep_artifact)}",
                requirement=expand(_text(dep, "version")) or "",
                scope=kind,
            )
        )
    scm = root.find("scm")
    repository = _text(scm, "url")
    if repository is None:
        connection = _text(scm, "connection")
        if connection:
            repository = re.sub(r"^scm:[a-z]+:", "", connection)
    return UpstreamFacts(
        source=source,
        license_raw=" OR ".join(licenses) if licenses else None,
        released_at=released_at,
        homepage=expand(_text(root, "url")),
        repository=expand(repository),
        dependencies=deps,
        files=files,
    )


class MavenUpstream(Upstream):
    """A Maven repository (Central, a mirror, a repository manager) read by its folder layout."""

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
        """The versions the artifact's ``maven-metadata.xml`` lists."""
        url = self.artifact_url(name) + "maven-metadata.xml"
        response = await self.http.get(url, max_bytes=MAX_XML_BYTES)
        return versions_from_metadata(parse_xml(response.body, url))

    async def facts(self, name: str, version: str) -> UpstreamFacts:
        """Facts of one version from its POM (the metadata file says whether it exists)."""
        known = await self.versions(name)
        url = self.pom_url(name, version)
        if version not in known:
            raise NotFoundError(f"maven-metadata.xml lists no version {version}", url=url)
        response = await self.http.get(url, max_bytes=MAX_XML_BYTES)
        root = parse_xml(response.body, url)
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
        packaging = _text(root, "packaging") or "jar"
        if packaging in ("jar", "bundle", "maven-plugin"):
            jar = f"{artifact}-{version}.jar"
            jar_url = url.rsplit("/", 1)[0] + "/" + jar
            files.append(UpstreamFile(filename=jar, kind="jar", url=jar_url))
        return facts_from_pom(root, source=url, released_at=released, files=files)
