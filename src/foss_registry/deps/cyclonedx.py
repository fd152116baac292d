"""CycloneDX SBOMs in JSON: ``components`` (nested ones too) identified by their purl.

``metadata.component`` is the subject of the SBOM (the project or image under
check), not a dependency of it, so it is left out. Components without a purl
cannot be mapped to an ecosystem and are skipped with a note.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from foss_registry.deps.base import Dependency, DependencyFileError, expect, load_json
from foss_registry.deps.purls import PurlCollector

NAME = "CycloneDX"
DESCRIPTION = "CycloneDX JSON SBOM"

_END = object()
_MARKER = re.compile(rb'"bomFormat"\s*:\s*"CycloneDX"')


def matches(path: Path, head: bytes) -> bool:
    """Return whether a JSON file declares ``"bomFormat": "CycloneDX"``."""
    return path.suffix.lower() == ".json" and _MARKER.search(head) is not None


def parse(path: Path, text: str, skipped: list[str]) -> list[Dependency]:
    """Return a dependency for every component with a purl of a supported type."""
    doc = load_json(path, text)
    expect(isinstance(doc, dict), path, "a CycloneDX SBOM must be a JSON object")
    collector = PurlCollector(path)
    no_purl = 0
    # Walked in document order without recursion: the nesting depth is the file's choice.
    stack: list[Iterator[Any]] = [iter(_array(path, doc.get("components")))]
    while stack:
        component = next(stack[-1], _END)
        if component is _END:
            stack.pop()
            continue
        if not isinstance(component, dict):
            raise DependencyFileError(f"{path}: a component must be a JSON object")
        purl = component.get("purl")
        if isinstance(purl, str) and purl:
            collector.add(purl, component.get("version"))
        else:
            no_purl += 1
        if component.get("components"):
            stack.append(iter(_array(path, component["components"])))
    if no_purl:
        skipped.append(f"{path}: skipped {no_purl} components without a purl")
    collector.report(skipped, "components")
    return collector.found


def _array(path: Path, value: object) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DependencyFileError(f'{path}: "components" must be a JSON array')
    return value
