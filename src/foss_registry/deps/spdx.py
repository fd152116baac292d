"""SPDX 2.x SBOMs in JSON: ``packages`` identified by ``externalRefs`` of type ``purl``.

The packages the document DESCRIBES are its subject (the project or image under
check) and are left out, unless the document describes every package it has,
as some generators do; then they are all dependencies. Packages without a purl
cannot be mapped to an ecosystem and are skipped with a note.
"""

from __future__ import annotations

import re
from pathlib import Path

from foss_registry.deps.base import Dependency, DependencyFileError, expect, load_json
from foss_registry.deps.purls import PurlCollector

NAME = "SPDX"
DESCRIPTION = "SPDX 2.3 JSON SBOM"

_MARKER = re.compile(rb'"spdxVersion"\s*:\s*"SPDX-')


def matches(path: Path, head: bytes) -> bool:
    """Return whether a JSON file declares an ``spdxVersion``."""
    return path.suffix.lower() == ".json" and _MARKER.search(head) is not None


def parse(path: Path, text: str, skipped: list[str]) -> list[Dependency]:
    """Return a dependency for every purl of every package the document does not describe."""
    doc = load_json(path, text)
    expect(isinstance(doc, dict), path, "an SPDX document must be a JSON object")
    packages = doc.get("packages") or []
    expect(isinstance(packages, list), path, '"packages" must be a JSON array')
    described = _described(doc)
    ids = {p.get("SPDXID") for p in packages if isinstance(p, dict)}
    if ids <= described:
        described = set()
    collector = PurlCollector(path)
    no_purl = 0
    for package in packages:
        if not isinstance(package, dict):
            raise DependencyFileError(f"{path}: a package must be a JSON object")
        if package.get("SPDXID") in described:
            continue
        refs = package.get("externalRefs") or []
        expect(isinstance(refs, list), path, '"externalRefs" must be a JSON array')
        purls = [
            ref["referenceLocator"]
            for ref in refs
            if isinstance(ref, dict)
            and ref.get("referenceType") == "purl"
            and isinstance(ref.get("referenceLocator"), str)
        ]
        if not purls:
            no_purl += 1
        for purl in purls:
            collector.add(purl, package.get("versionInfo"))
    if no_purl:
        skipped.append(f"{path}: skipped {no_purl} packages without a purl")
    collector.report(skipped, "packages")
    return collector.found


def _described(doc: dict[str, object]) -> set[str]:
    described: set[str] = set()
    listed = doc.get("documentDescribes")
    if isinstance(listed, list):
        described.update(x for x in listed if isinstance(x, str))
    doc_id = doc.get("SPDXID", "SPDXRef-DOCUMENT")
    relationships = doc.get("relationships")
    for rel in relationships if isinstance(relationships, list) else []:
        if (
            isinstance(rel, dict)
            and rel.get("relationshipType") == "DESCRIBES"
            and rel.get("spdxElementId") == doc_id
            and isinstance(rel.get("relatedSpdxElement"), str)
        ):
            described.add(rel["relatedSpdxElement"])
    return described
