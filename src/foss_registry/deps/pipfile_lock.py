"""Pipenv lockfiles (``Pipfile.lock``): JSON sections ``default`` and ``develop``.

Each entry maps a project name to ``{"version": "==1.2.3", ...}``; git, path and
file entries carry ``git``/``path``/``file`` instead of a version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from foss_registry.deps.base import (
    Dependency,
    DependencyFileError,
    expect,
    load_json,
    pinned,
    unpinned,
)

NAME = "Pipfile.lock"
DESCRIPTION = "Pipfile.lock"

_SECTIONS = ("default", "develop")
_OTHER_SOURCES = ("git", "path", "file", "hg", "svn", "bzr")


def matches(path: Path, head: bytes) -> bool:
    """Return whether the file is named ``Pipfile.lock`` or has Pipenv's ``_meta`` block."""
    if path.name.lower() == "pipfile.lock":
        return True
    return path.suffix.lower() in (".lock", ".json") and b'"pipfile-spec"' in head


def parse(path: Path, text: str, skipped: list[str]) -> list[Dependency]:
    """Return the packages of both sections; development ones carry a note."""
    doc = load_json(path, text)
    expect(isinstance(doc, dict), path, "a Pipfile.lock must be a JSON object")
    out: list[Dependency] = []
    for section in _SECTIONS:
        entries = doc.get(section)
        if entries is None:
            continue
        expect(isinstance(entries, dict), path, f'"{section}" must be a JSON object')
        for name, entry in entries.items():
            expect(isinstance(entry, dict), path, f"{section}.{name} must be a JSON object")
            out.append(_entry(path, section, name, entry))
    return out


def _entry(path: Path, section: str, name: str, entry: dict[str, Any]) -> Dependency:
    if not name:
        raise DependencyFileError(f"{path}: an entry of {section} has an empty name")
    notes = ["development"] if section == "develop" else []
    extras = entry.get("extras")
    if isinstance(extras, list) and extras:
        notes.append(f"extras: {', '.join(sorted(str(e) for e in extras))}")
    if entry.get("markers"):
        notes.append(f"environment marker: {entry['markers']}")
    other = next((key for key in _OTHER_SOURCES if key in entry), None)
    if other is not None:
        kind = f"editable {other}" if entry.get("editable") else other
        notes.insert(0, f"{kind} source {entry[other]}, not a registry release")
        return unpinned(name, "pypi", path, "; ".join(notes))
    version = entry.get("version")
    if isinstance(version, str) and version.startswith("==") and not version.endswith("*"):
        # ``===`` (arbitrary equality) also starts with ``==``.
        return pinned(name, version.lstrip("="), "pypi", path, "; ".join(notes) or None)
    spec = version if isinstance(version, str) and version else "no version"
    notes.insert(0, f"not pinned ({spec})")
    return unpinned(name, "pypi", path, "; ".join(notes))
