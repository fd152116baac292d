"""Package URLs (purls) of SBOM entries turned into dependencies; shared by the SBOM formats."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from packageurl import PackageURL

from foss_registry.deps.base import Dependency, pinned, unpinned

#: purl types this registry has an ecosystem for, mapped to the ecosystem's API name.
ECOSYSTEMS = {"pypi": "pypi", "npm": "npm", "maven": "maven", "docker": "docker"}


class PurlCollector:
    """Turns purls into dependencies and tallies what it had to skip, for one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[Dependency] = []
        self._types: Counter[str] = Counter()
        self._problems: list[str] = []

    def add(self, purl: str, fallback_version: object = None) -> None:
        """Add the dependency a purl names; ``fallback_version`` serves when it has none."""
        try:
            p = PackageURL.from_string(purl)
        except ValueError as exc:
            self._problems.append(f"{self.path}: invalid purl {purl!r} skipped: {exc}")
            return
        ecosystem = ECOSYSTEMS.get(p.type)
        if ecosystem is None:
            self._types[p.type] += 1
            return
        if ecosystem == "maven":
            if not p.namespace:
                self._problems.append(f"{self.path}: Maven purl {purl} has no groupId; skipped")
                return
            name = f"{p.namespace}:{p.name}"
        elif p.namespace and ecosystem in ("npm", "docker"):
            # purl keeps an npm scope (``@babel``) or a Docker namespace apart from the name.
            name = f"{p.namespace}/{p.name}"
        else:
            name = p.name
        if ecosystem == "docker":
            name = _with_registry(name, p.qualifiers)
        version = p.version
        if not version and isinstance(fallback_version, str) and fallback_version.strip():
            version = fallback_version.strip()
        if version:
            self.found.append(pinned(name, version, ecosystem, self.path))
        else:
            self.found.append(unpinned(name, ecosystem, self.path, "no version in the SBOM"))

    def report(self, skipped: list[str], entries: str) -> None:
        """Append one line per problem and per skipped purl type to ``skipped``."""
        skipped.extend(self._problems)
        for kind, count in sorted(self._types.items()):
            skipped.append(
                f"{self.path}: skipped {count} {entries} of purl type {kind} "
                "(not a supported ecosystem)"
            )


# Docker Hub is the default registry: its images are named without a host.
_DEFAULT_REGISTRIES = {"docker.io", "index.docker.io", "registry-1.docker.io"}


def _with_registry(name: str, qualifiers: object) -> str:
    """Prefix an image name with the registry host a ``repository_url`` qualifier gives."""
    url = qualifiers.get("repository_url") if isinstance(qualifiers, dict) else None
    if not isinstance(url, str) or not url:
        return name
    host = url.split("://", 1)[-1].rstrip("/")
    if not host or host in _DEFAULT_REGISTRIES:
        return name
    # Some tools put the whole repository in repository_url, not just the host.
    return host if host.endswith("/" + name) else f"{host}/{name}"
