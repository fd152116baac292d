"""Dependencies read from the files a project pins them in, for the CI gate ``foss check``.

One module per format, each exposing ``NAME``, ``DESCRIPTION``,
``matches(path, head) -> bool`` and ``parse(path, text, skipped) -> list[Dependency]``
(see :class:`Format`), registered in ``_FORMATS``. :func:`parse_file` detects a
file's format from its name and first bytes and turns every failure into a
one-line :class:`DependencyFileError`; :func:`parse_files` reads several files
into one deduplicated list. Nothing here touches the network or a database.

Conventions shared by every format:

* Names are kept as the file spells them (``Flask``, ``zope_interface``); the
  registry normalises on lookup. Duplicates are dropped with the ecosystem's
  rules (PEP 503 names and PEP 440 versions for PyPI), keeping the first.
* ``pinned`` is true exactly when ``version`` is set. Ranges, missing versions
  and code from git, paths or URLs are unpinned, with a ``note`` saying why.
* The project itself (uv/yarn workspaces, npm links, an SBOM's subject) is left
  out; so are entries that name no package, which get a line in ``skipped``.
* Development-only packages stay listed, with the note ``development``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from foss_registry.deps import (
    cyclonedx,
    package_lock,
    pipfile_lock,
    poetry_lock,
    pom,
    requirements,
    spdx,
    uv_lock,
    yarn_lock,
)
from foss_registry.deps.base import (
    MAX_DEPENDENCIES,
    Dependency,
    DependencyFileError,
    dedupe_key,
    is_binary,
    read_head,
    read_text,
)


class Format(Protocol):
    """What a format module provides."""

    #: Short name of the format, e.g. ``poetry.lock``.
    NAME: str
    #: How the format is recognised, for the "supported: ..." message.
    DESCRIPTION: str

    def matches(self, path: Path, head: bytes) -> bool:
        """Return whether a file with this name and these first bytes is in this format."""
        ...

    def parse(self, path: Path, text: str, skipped: list[str]) -> list[Dependency]:
        """Return the file's dependencies; append a line to ``skipped`` per entry left out."""
        ...


# Order matters: formats recognised by their content or exact file name come before
# requirements files, which are recognised by a looser name pattern.
_FORMATS: tuple[Format, ...] = (
    cyclonedx,
    spdx,
    pipfile_lock,
    package_lock,
    yarn_lock,
    poetry_lock,
    uv_lock,
    pom,
    requirements,
)

#: Names of the supported formats, in detection order.
FORMATS: tuple[str, ...] = tuple(f.NAME for f in _FORMATS)

PathLike = str | os.PathLike[str]


def _detect(path: Path, head: bytes) -> Format:
    if is_binary(head):
        raise DependencyFileError(f"{path}: is a binary file, not a dependency file")
    for fmt in _FORMATS:
        if fmt.matches(path, head):
            return fmt
    supported = ", ".join(f.DESCRIPTION for f in _FORMATS)
    raise DependencyFileError(f"cannot tell the format of {path}; supported: {supported}")


def detect_format(path: PathLike) -> str:
    """Return the name of a file's format (one of :data:`FORMATS`).

    Raises DependencyFileError for an unreadable, binary or unrecognised file.
    """
    p = Path(path)
    return _detect(p, read_head(p)).NAME


def parse_file(path: PathLike, *, skipped: list[str] | None = None) -> list[Dependency]:
    """Return the deduplicated dependencies of one file, in the order the file lists them.

    Entries that name no package (``-e .``, an SBOM component without a purl) are
    left out; pass a list as ``skipped`` to receive a one-line note for each.
    Raises DependencyFileError, and nothing else, for any problem with the file.
    """
    deps = _parse_one(Path(path), skipped if skipped is not None else [])
    unique = _dedupe(deps, set())
    if len(unique) > MAX_DEPENDENCIES:
        raise DependencyFileError(
            f"{path}: more than {MAX_DEPENDENCIES:,} dependencies "
            f"(the limit is {MAX_DEPENDENCIES:,})"
        )
    return unique


def parse_files(
    paths: Iterable[PathLike], *, skipped: list[str] | None = None
) -> list[Dependency]:
    """Return the dependencies of several files, concatenated and deduplicated.

    A dependency found in two files is kept once, as the first file gives it.
    Raises DependencyFileError for the first bad file, or once the total passes
    :data:`MAX_DEPENDENCIES`.
    """
    notes = skipped if skipped is not None else []
    seen: set[tuple[str, str, str | None]] = set()
    out: list[Dependency] = []
    for path in paths:
        out.extend(_dedupe(_parse_one(Path(path), notes), seen))
        if len(out) > MAX_DEPENDENCIES:
            raise DependencyFileError(
                f"{path}: more than {MAX_DEPENDENCIES:,} dependencies in total "
                f"(the limit is {MAX_DEPENDENCIES:,})"
            )
    return out


def _parse_one(path: Path, skipped: list[str]) -> list[Dependency]:
    fmt = _detect(path, read_head(path))
    text = read_text(path)
    try:
        return fmt.parse(path, text, skipped)
    except DependencyFileError:
        raise
    except RecursionError:
        raise DependencyFileError(f"{path}: nested too deeply to read") from None
    except Exception as exc:
        # The gate prints one line and exits; a traceback would help no one using it.
        raise DependencyFileError(
            f"{path}: not a valid {fmt.NAME} file ({type(exc).__name__}: {exc})"
        ) from exc


def _dedupe(deps: list[Dependency], seen: set[tuple[str, str, str | None]]) -> list[Dependency]:
    out: list[Dependency] = []
    for dep in deps:
        key = dedupe_key(dep)
        if key not in seen:
            seen.add(key)
            out.append(dep)
    return out


__all__ = [
    "FORMATS",
    "MAX_DEPENDENCIES",
    "Dependency",
    "DependencyFileError",
    "Format",
    "detect_format",
    "parse_file",
    "parse_files",
]
