"""npm's registry read protocol, filtered to approved versions.

Pure functions over an upstream packument (the JSON document npm reads for a
package): keep only approved versions in ``versions`` and ``time``, recompute
``dist-tags.latest`` to the highest approved stable version (other tags stay
only when they point at an approved version), rewrite tarball URLs to the
registry (``/npm/{name}/-/{base}-{version}.tgz``, as npm writes them) keeping
``dist.integrity`` and ``dist.shasum``, and derive the abbreviated form
(``application/vnd.npm.install-v1+json``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection
from typing import Any
from urllib.parse import quote

from foss_registry.ecosystems.npm import Npm, parse_semver
from foss_registry.errors import InvalidInputError
from foss_registry.index.errors import BadUpstreamError

ABBREVIATED_TYPE = "application/vnd.npm.install-v1+json"
_NPM = Npm()
_TARBALL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~+-]{0,254}\.tgz$")
#: Fields of a version that the abbreviated packument keeps (npm's own list).
_ABBREVIATED_FIELDS = (
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "bundledDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bin",
    "directories",
    "dist",
    "engines",
    "os",
    "cpu",
    "libc",
    "funding",
    "license",
    "_hasShrinkwrap",
    "hasInstallScript",
)
#: Top-level fields of a full packument that are rebuilt or dropped.
_REBUILT = {"versions", "time", "dist-tags", "_attachments", "_rev", "users"}


def package_name(raw: str) -> str:
    """Return an npm package name from a URL (``@scope/name`` or plain), or raise 400."""
    if len(raw) > 214:
        raise InvalidInputError(
            f"{raw[:80] + '…'!r} is not a valid npm package name (at most 214 characters).",
            code="invalid_name",
        )
    try:
        return _NPM.normalize_name(raw)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.detail, code="invalid_name") from None


def base_name(name: str) -> str:
    """The part of a (scoped) name that tarball file names start with."""
    return name.rsplit("/", 1)[-1]


def canonical(version: str) -> str | None:
    """The canonical SemVer form of a version, or None when it is not one."""
    try:
        return str(parse_semver(version))
    except InvalidInputError:
        return None


def tarball_version(name: str, filename: str) -> str:
    """The version a tarball file name names (``{base}-{version}.tgz``), or raise 400."""
    prefix = base_name(name) + "-"
    if not _TARBALL.match(filename) or ".." in filename or not filename.startswith(prefix):
        raise InvalidInputError(
            f"{filename[:80]!r} is not a tarball of {name!r}; npm names them "
            f"'{prefix}<version>.tgz'.",
            code="invalid_filename",
        )
    version = filename[len(prefix) : -len(".tgz")]
    if canonical(version) is None:
        raise InvalidInputError(
            f"{filename[:80]!r} does not name a SemVer version of {name!r}.",
            code="invalid_filename",
        )
    return version


def tarball_url(base_url: str, name: str, version: str) -> str:
    """The registry's URL of a version's tarball."""
    path = "/".join(quote(part, safe="@") for part in name.split("/"))
    return f"{base_url}/npm/{path}/-/{quote(base_name(name))}-{quote(version)}.tgz"


def check_packument(doc: Any, name: str) -> dict[str, Any]:
    """The packument if it has the shape npm reads, else a bad upstream (502)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("versions", {}), dict):
        raise BadUpstreamError(
            f"The upstream npm registry answered {name!r} with something that is not a packument."
        )
    return doc


def _highest(versions: Collection[str], *, stable: bool) -> str | None:
    candidates = []
    for version in versions:
        try:
            parsed = parse_semver(version)
        except InvalidInputError:
            continue
        if stable and parsed.prerelease:
            continue
        candidates.append((parsed.key(), version))
    return max(candidates)[1] if candidates else None


def approved_versions(doc: dict[str, Any], approved: Collection[str]) -> list[str]:
    """The packument's version keys whose canonical form is approved."""
    return [v for v in doc.get("versions", {}) if canonical(v) in approved]


def filter_packument(
    doc: dict[str, Any], approved: Collection[str], base_url: str, *, abbreviated: bool
) -> dict[str, Any]:
    """The packument with only ``approved`` (canonical) versions, tarballs on the registry."""
    name = str(doc.get("name") or "")
    kept = approved_versions(doc, approved)
    versions: dict[str, Any] = {}
    for version in kept:
        entry = doc["versions"][version]
        if not isinstance(entry, dict):
            continue
        entry = dict(entry)
        dist = dict(entry.get("dist") or {})
        dist["tarball"] = tarball_url(base_url, name, version)
        entry["dist"] = dist
        if abbreviated:
            entry = {k: entry[k] for k in _ABBREVIATED_FIELDS if k in entry}
        versions[version] = entry
    tags: dict[str, str] = {}
    latest = _highest(versions, stable=True) or _highest(versions, stable=False)
    if latest is not None:
        tags["latest"] = latest
    upstream_tags = doc.get("dist-tags") or {}
    if isinstance(upstream_tags, dict):
        for tag, version in upstream_tags.items():
            if tag != "latest" and isinstance(version, str) and version in versions:
                tags[tag] = version
    upstream_time = doc.get("time") or {}
    time: dict[str, Any] = {}
    if isinstance(upstream_time, dict):
        time = {v: upstream_time[v] for v in versions if v in upstream_time}
        if "created" in upstream_time:
            time["created"] = upstream_time["created"]
        stamps = [t for t in time.values() if isinstance(t, str)]
        if stamps:
            time["modified"] = max(stamps)
    if abbreviated:
        result: dict[str, Any] = {"name": name, "dist-tags": tags, "versions": versions}
        if "modified" in time:
            result["modified"] = time["modified"]
        return result
    result = {k: v for k, v in doc.items() if k not in _REBUILT}
    result.update({"dist-tags": tags, "versions": versions, "time": time})
    return result


def upstream_tarball(doc: dict[str, Any], version: str) -> tuple[str, tuple[str, str]] | None:
    """Upstream's tarball URL of a version and its strongest digest (algorithm, hex).

    The digest is ``dist.integrity`` (Subresource Integrity, sha512 preferred)
    or else ``dist.shasum`` (sha1). None when the version or either is missing.
    """
    entry = (doc.get("versions") or {}).get(version)
    if not isinstance(entry, dict):
        return None
    dist = entry.get("dist") or {}
    url = dist.get("tarball")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    digest = integrity_digest(dist.get("integrity"))
    if digest is None:
        shasum = dist.get("shasum")
        if isinstance(shasum, str) and re.fullmatch(r"[0-9a-fA-F]{40}", shasum):
            digest = ("sha1", shasum.lower())
    return (url, digest) if digest is not None else None


def integrity_digest(integrity: Any) -> tuple[str, str] | None:
    """The strongest (algorithm, hex) of a Subresource Integrity string."""
    if not isinstance(integrity, str):
        return None
    found: dict[str, str] = {}
    for token in integrity.split():
        algorithm, _, value = token.partition("-")
        if algorithm in ("sha512", "sha384", "sha256", "sha1"):
            try:
                found[algorithm] = base64.b64decode(value.split("?")[0], validate=True).hex()
            except (binascii.Error, ValueError):
                continue
    for algorithm in ("sha512", "sha384", "sha256", "sha1"):
        if algorithm in found:
            return algorithm, found[algorithm]
    return None
