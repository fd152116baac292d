"""Yarn lockfiles (``yarn.lock``): the classic v1 format and the YAML format of Yarn 2+.

A v1 block starts with an unindented header listing every range that resolved
to it (``"@babel/core@^7.0.0", "@babel/core@^7.1.0":``) followed by indented
fields (``version "7.24.0"``). Yarn 2+ ("berry") writes ``version: 7.24.0`` and a
``resolution:`` naming the real package and protocol. Several blocks can resolve
to one release (different ranges, aliases), so the list is deduplicated.
"""

from __future__ import annotations

from pathlib import Path

from foss_registry.deps.base import (
    Dependency,
    DependencyFileError,
    npm_non_registry,
    pinned,
    unpinned,
)

NAME = "yarn.lock"
DESCRIPTION = "yarn.lock"

# Protocols of Yarn 2+ resolutions that are the project's own code, or a patch
# of a registry release whose unpatched entry is listed too.
_BERRY_SKIP = ("workspace:", "link:", "portal:", "patch:", "exec:")


def matches(path: Path, head: bytes) -> bool:
    """Return whether the file is named ``yarn.lock`` or starts like one."""
    if path.name.lower() == "yarn.lock":
        return True
    start = head[:1024]
    return path.suffix.lower() == ".lock" and (
        b"# yarn lockfile v1" in start or b"\n__metadata:" in start
    )


def parse(path: Path, text: str, skipped: list[str]) -> list[Dependency]:
    """Return each resolved package once."""
    out: list[Dependency] = []
    seen: set[tuple[str, str | None]] = set()
    for number, header, fields in _blocks(path, text):
        dep = _dependency(path, number, header, fields)
        if dep is None:
            continue
        key = (dep.name, dep.version if dep.pinned else dep.note)
        if key not in seen:
            seen.add(key)
            out.append(dep)
    return out


def _blocks(path: Path, text: str) -> list[tuple[int, str, dict[str, str]]]:
    """Split the file into (line number, header, top-level fields) blocks."""
    blocks: list[tuple[int, str, dict[str, str]]] = []
    fields: dict[str, str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if not line.rstrip().endswith(":"):
                raise DependencyFileError(
                    f"{path} line {number}: expected an entry header ending in ':'"
                )
            fields = {}
            blocks.append((number, line.rstrip()[:-1], fields))
            continue
        if fields is None:
            raise DependencyFileError(f"{path} line {number}: indented line outside an entry")
        # Only the entry's own fields (two spaces); deeper lines list its dependencies.
        if line.startswith("  ") and not line.startswith("   "):
            key, _, value = line.strip().partition(" ")
            fields[key.rstrip(":")] = value.strip().strip('"')
    return blocks


def _split_spec(spec: str) -> tuple[str, str]:
    """Split ``name@range`` (the name may be scoped: ``@scope/name@range``)."""
    at = spec.find("@", 1)
    if at < 0:
        return spec, ""
    return spec[:at], spec[at + 1 :]


def _dependency(
    path: Path, number: int, header: str, fields: dict[str, str]
) -> Dependency | None:
    if header.strip('"') == "__metadata":
        return None
    first = header.split(",", 1)[0].strip().strip('"')
    name, rng = _split_spec(first)
    version = fields.get("version", "")
    resolution = fields.get("resolution")
    if resolution is not None:
        # Yarn 2+: the resolution names the real package and where it came from.
        name, target = _split_spec(resolution)
        if target.startswith(_BERRY_SKIP):
            return None
        if target.startswith("npm:") and version:
            return pinned(name, version, "npm", path, line=number)
        stated = f" (version {version})" if version else ""
        note = f"resolved from {target}{stated}, not a registry release"
        return unpinned(name, "npm", path, note, line=number)
    if rng.startswith("npm:"):
        # An alias (``string-width-cjs@npm:string-width@^4.2.0``) installs the real package.
        name, rng = _split_spec(rng[4:])
    if not name:
        raise DependencyFileError(f"{path} line {number}: entry header names no package")
    if npm_non_registry(rng):
        where = fields.get("resolved") or rng
        stated = f" (version {version})" if version else ""
        note = f"resolved from {where}{stated}, not a registry release"
        return unpinned(name, "npm", path, note, line=number)
    if not version:
        return unpinned(name, "npm", path, "no version in the lockfile", line=number)
    resolved = fields.get("resolved") or None
    return pinned(
        name,
        version,
        "npm",
        path,
        line=number,
        # v1 appends the tarball's SHA-1 to the URL: ``...tgz#<sha1>``.
        resolved=resolved.split("#", 1)[0] if resolved else None,
        integrity=fields.get("integrity") or None,
    )
