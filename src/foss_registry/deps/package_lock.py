"""npm lockfiles: ``package-lock.json`` and ``npm-shrinkwrap.json``.

lockfileVersion 2 and 3 list every installed package in a flat ``packages``
map keyed by its folder (``node_modules/a``, ``node_modules/@scope/b``,
``node_modules/a/node_modules/c``); the installed name is the part after the last
``node_modules/``, unless the entry names the real package (an alias such as
``"x": "npm:y@1"``). The root entry ``""``, workspace folders and ``link`` entries
are the project's own code and are left out. lockfileVersion 1 files only have
the nested ``dependencies`` tree, which is walked instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from foss_registry.deps.base import (
    Dependency,
    DependencyFileError,
    expect,
    load_json,
    npm_non_registry,
    pinned,
    unpinned,
)

NAME = "package-lock.json"
DESCRIPTION = "package-lock.json / npm-shrinkwrap.json"

_MARK = "node_modules/"
# A registry tarball is resolved over https; these point at code from elsewhere.
_FOREIGN_RESOLVED = ("git+", "git:", "git@", "github:", "file:")


def matches(path: Path, head: bytes) -> bool:
    """Return whether the file has an npm lockfile name or a ``lockfileVersion`` key."""
    name = path.name.lower()
    if name in ("package-lock.json", "npm-shrinkwrap.json", ".package-lock.json"):
        return True
    return name.endswith(".json") and b'"lockfileVersion"' in head


def parse(path: Path, text: str, skipped: list[str]) -> list[Dependency]:
    """Return every installed package of the lockfile."""
    doc = load_json(path, text)
    expect(isinstance(doc, dict), path, "an npm lockfile must be a JSON object")
    packages = doc.get("packages")
    if packages is not None:
        expect(isinstance(packages, dict), path, '"packages" must be a JSON object')
        return _packages(path, packages, _key_lines(text, packages))
    dependencies = doc.get("dependencies") or {}
    expect(isinstance(dependencies, dict), path, '"dependencies" must be a JSON object')
    return _tree(path, dependencies)


# A key of the ``packages`` map as written: ``"[<folder>/]node_modules/<path>": {`` (a key
# written with escapes is not found, and then no dependency of the file gets a line).
_PACKAGE_KEY = re.compile(r'"([^"\\\n]*node_modules/[^"\\\n]*)"\s*:\s*\{')


def _key_lines(text: str, packages: dict[str, Any]) -> dict[str, int]:
    """The line where each ``node_modules/...`` key of ``packages`` is written.

    A position-keeping pass over the text ``json.loads`` accepted: every
    ``"...node_modules/...": {`` outside a string value (inside one its quotes
    would be escaped) is a key of the ``packages`` map, the only object keyed
    by install folders. The lines are kept only when the keys found are
    exactly the map's, each once; otherwise the dependencies get none.
    """
    lines: dict[str, int] = {}
    line, previous = 1, 0
    for match in _PACKAGE_KEY.finditer(text):
        start = match.start()
        if start and text[start - 1] == "\\":
            continue
        line += text.count("\n", previous, start)
        previous = start
        key = match.group(1)
        if key in lines:
            return {}
        lines[key] = line
    wanted = {k for k in packages if _MARK in k}
    return lines if set(lines) == wanted else {}


def _packages(path: Path, packages: dict[str, Any], lines: dict[str, int]) -> list[Dependency]:
    out: list[Dependency] = []
    source = str(path)
    for key, entry in packages.items():
        cut = key.rfind(_MARK)
        if cut < 0:
            # "" is the project; other keys without node_modules/ are workspace folders.
            continue
        if not isinstance(entry, dict):
            raise DependencyFileError(f"{path}: packages[{key!r}] must be a JSON object")
        if entry.get("link"):
            continue
        alias = entry.get("name")
        name = alias if isinstance(alias, str) and alias else key[cut + len(_MARK) :]
        version = entry.get("version")
        resolved = entry.get("resolved")
        dev = entry.get("dev")
        if (
            isinstance(version, str)
            and version
            and not npm_non_registry(version)
            and not (isinstance(resolved, str) and resolved.startswith(_FOREIGN_RESOLVED))
        ):
            # The common case by far; built directly to keep large lockfiles fast.
            out.append(
                Dependency(
                    name,
                    version,
                    "npm",
                    source,
                    True,
                    "development" if dev else None,
                    lines.get(key),
                    _text(entry.get("license")),
                    _text(resolved),
                    _text(entry.get("integrity")),
                )
            )
        else:
            out.append(replace(_foreign(path, name, version, resolved), line=lines.get(key)))
    return out


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _foreign(path: Path, name: str, version: object, resolved: object) -> Dependency:
    if isinstance(resolved, str) and resolved:
        stated = (
            f" (version {version})"
            if isinstance(version, str) and version and not npm_non_registry(version)
            else ""
        )
        note = f"resolved from {resolved}{stated}, not a registry release"
        return unpinned(name, "npm", path, note)
    if isinstance(version, str) and version:
        return unpinned(name, "npm", path, f"{version} is not a registry release")
    return unpinned(name, "npm", path, "no version in the lockfile")


def _tree(path: Path, dependencies: dict[str, Any]) -> list[Dependency]:
    """Walk a lockfileVersion 1 ``dependencies`` tree without recursion."""
    out: list[Dependency] = []
    stack: list[Iterator[tuple[str, Any]]] = [iter(dependencies.items())]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        name, entry = item
        if not isinstance(entry, dict):
            raise DependencyFileError(f"{path}: dependencies[{name!r}] must be a JSON object")
        version = entry.get("version")
        dev = "development" if entry.get("dev") else None
        if isinstance(version, str) and version.startswith("npm:"):
            # An alias: "npm:real-name@1.2.3".
            real = version[4:]
            at = real.find("@", 1)
            if at > 0:
                name, version = real[:at], real[at + 1 :]
        if isinstance(version, str) and version and not npm_non_registry(version):
            out.append(
                pinned(
                    name,
                    version,
                    "npm",
                    path,
                    dev,
                    resolved=_text(entry.get("resolved")),
                    integrity=_text(entry.get("integrity")),
                )
            )
        else:
            out.append(_foreign(path, name, version, entry.get("resolved")))
        nested = entry.get("dependencies")
        if nested:
            expect(isinstance(nested, dict), path, f"{name}.dependencies must be an object")
            stack.append(iter(nested.items()))
    return out
