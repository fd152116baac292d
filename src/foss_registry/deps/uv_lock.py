"""uv lockfiles (``uv.lock``): TOML ``[[package]]`` tables with name, version and source.

The project itself and workspace members appear with an ``editable`` or
``virtual`` source; they are the code under check, not dependencies, so they
are left out.
"""

from __future__ import annotations

from pathlib import Path

from foss_registry.deps.base import (
    Dependency,
    DependencyFileError,
    expect,
    load_toml,
    pinned,
    unpinned,
)

NAME = "uv.lock"
DESCRIPTION = "uv.lock"

_PROJECT_SOURCES = ("editable", "virtual")
_OTHER_SOURCES = ("git", "path", "directory", "url")


def matches(path: Path, head: bytes) -> bool:
    """Return whether the file is named ``uv.lock``."""
    return path.name.lower() == "uv.lock"


def parse(path: Path, text: str, skipped: list[str]) -> list[Dependency]:
    """Return every locked package except the project and its workspace members."""
    doc = load_toml(path, text)
    packages = doc.get("package", [])
    expect(isinstance(packages, list), path, "[[package]] must be an array of tables")
    out: list[Dependency] = []
    for pkg in packages:
        expect(isinstance(pkg, dict), path, "[[package]] must be an array of tables")
        name, version = pkg.get("name"), pkg.get("version")
        if not isinstance(name, str) or not name:
            raise DependencyFileError(f"{path}: a [[package]] has no name")
        source = pkg.get("source") or {}
        expect(isinstance(source, dict), path, f"package {name}: source must be a table")
        if any(key in source for key in _PROJECT_SOURCES):
            continue
        other = next((key for key in _OTHER_SOURCES if key in source), None)
        if other is not None:
            stated = f" (version {version})" if isinstance(version, str) and version else ""
            note = f"{other} source {source[other]}{stated}, not a registry release"
            out.append(unpinned(name, "pypi", path, note))
        elif not isinstance(version, str) or not version:
            out.append(unpinned(name, "pypi", path, "no version in the lockfile"))
        else:
            out.append(pinned(name, version, "pypi", path))
    return out
