"""pip requirements files: ``requirements*.txt``, ``*requirements.txt`` and pip-tools ``*.in``.

Follows pip's line syntax: ``\\`` continuations, ``#`` comments (at the start or
after whitespace), ``-r``/``--requirement`` includes relative to the including
file, per-requirement options such as ``--hash``, and global options that are
ignored. ``-c``/``--constraint`` files only restrict versions, so they are not
read: nothing in them is a dependency.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from foss_registry.deps.base import (
    Dependency,
    DependencyFileError,
    one_line,
    pinned,
    read_text,
    unpinned,
)

NAME = "requirements.txt"
DESCRIPTION = "requirements*.txt / *.in"

_COMMENT = re.compile(r"(^|\s+)#.*$")
# Per-requirement options (``--hash=...``) start after whitespace; markers never contain `` --``.
_LINE_OPTION = re.compile(r"\s--[A-Za-z]")
# -r/-c/-e take their argument after ``=``, whitespace, or nothing at all (``-rdev.txt``).
_OPTION_WITH_ARG = re.compile(
    r"^(-[rce]|--requirement|--constraint|--editable)(?:\s*=\s*|\s+|(?=[^\s-]))(.*)$"
)
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_NAME_AT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_ARCHIVE = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".zip")


def matches(path: Path, head: bytes) -> bool:
    """Return whether the file name is that of a requirements file."""
    name = path.name.lower()
    if name.endswith(".in"):
        # MANIFEST.in lists sdist files, not requirements.
        return name != "manifest.in"
    if not name.endswith(".txt"):
        return False
    return (
        "requirements" in name
        or "constraints" in name
        or path.parent.name.lower() == "requirements"
    )


def parse(path: Path, text: str, skipped: list[str]) -> list[Dependency]:
    """Return the dependencies of a requirements file and of the files it includes."""
    out: list[Dependency] = []
    _parse(path, text, (_identity(path),), out, skipped)
    return out


def _identity(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join ``\\``-continued lines and strip comments; keep the first line's number.

    pip's own rules (``req_file.join_lines``): a line continues when its very
    last character is a backslash (one followed by a space does not continue);
    the backslashes at both ends of a continued line are dropped and the next
    line is appended as it is, its indentation included; a comment-only line
    never continues and ends a continuation; a backslash on the last line
    continues into nothing. Comments are stripped after joining.
    """
    joined: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        whole_comment = _COMMENT.match(line) is not None
        if line.endswith("\\") and not whole_comment:
            if not buf:
                start = number
            buf.append(line.strip("\\"))
            continue
        if whole_comment:
            # A leading space so that the comment is still stripped once joined.
            line = " " + line
        if buf:
            joined.append((start, "".join([*buf, line])))
            buf = []
        else:
            joined.append((number, line))
    if buf:
        joined.append((start, "".join(buf)))
    lines = []
    for number, line in joined:
        text_line = _COMMENT.sub("", line).strip()
        if text_line:
            lines.append((number, text_line))
    return lines


def _parse(
    path: Path,
    text: str,
    stack: tuple[Path, ...],
    out: list[Dependency],
    skipped: list[str],
) -> None:
    for number, line in _logical_lines(text):
        before = len(out)
        _parse_line(path, number, line, stack, out, skipped)
        # What this line named is at this line (an included file's at their own lines).
        for index in range(before, len(out)):
            if out[index].line is None:
                out[index] = replace(out[index], line=number)


def _parse_line(
    path: Path,
    number: int,
    line: str,
    stack: tuple[Path, ...],
    out: list[Dependency],
    skipped: list[str],
) -> None:
    where = f"{path} line {number}"
    if line.startswith("-"):
        option = _OPTION_WITH_ARG.match(line)
        if option is None:
            # --index-url, --find-links, --require-hashes, ...: not dependencies.
            return
        flag, arg = option.group(1), option.group(2).strip()
        if flag in ("-r", "--requirement"):
            _include(path, where, arg, stack, out, skipped)
        elif flag in ("-e", "--editable"):
            _direct(path, where, arg, "editable install", out, skipped)
        return
    spec = line
    cut = _LINE_OPTION.search(spec)
    if cut is not None:
        spec = spec[: cut.start()].strip()
    if _looks_like_location(spec):
        _direct(path, where, spec, "direct URL or path", out, skipped)
        return
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        raise DependencyFileError(
            f"{where}: invalid requirement {spec!r}: {one_line(str(exc))}"
        ) from None
    out.append(_from_requirement(req, path))


def _include(
    path: Path,
    where: str,
    arg: str,
    stack: tuple[Path, ...],
    out: list[Dependency],
    skipped: list[str],
) -> None:
    if not arg:
        raise DependencyFileError(f"{where}: -r needs a file name")
    if "://" in arg:
        # Fetching a URL from a pure parser would be a surprise network call.
        skipped.append(f"{where}: included URL {arg} not read")
        return
    target = path.parent / arg
    identity = _identity(target)
    if identity in stack:
        chain = " -> ".join(p.name for p in (*stack, identity))
        raise DependencyFileError(f"{where}: include cycle: {chain}")
    if not target.is_file():
        raise DependencyFileError(f"{where}: included file {arg} not found")
    _parse(target, read_text(target), (*stack, identity), out, skipped)


def _looks_like_location(spec: str) -> bool:
    """Return whether a line is a URL, path or archive rather than a PEP 508 requirement."""
    head = spec.split(";", 1)[0].strip()
    if _NAME_AT.match(head):
        # PEP 508 ``name @ url``: a valid Requirement, handled there.
        return False
    return "://" in head or head.startswith((".", "/", "~")) or head.lower().endswith(_ARCHIVE)


def _direct(
    path: Path, where: str, target: str, kind: str, out: list[Dependency], skipped: list[str]
) -> None:
    """Record an editable, URL or path requirement: unpinned if it names a project."""
    egg = _EGG.search(target)
    name = egg.group(1) if egg else None
    if name is None:
        try:
            req = Requirement(target)
        except InvalidRequirement:
            req = None
        if req is not None and req.url:
            name = req.name
    if name is None:
        name = _archive_name(target)
    if name is None:
        skipped.append(f"{where}: {kind} {target} names no project; skipped")
        return
    out.append(unpinned(name, "pypi", path, f"{kind} ({target}), not a registry release"))


def _archive_name(target: str) -> str | None:
    """Return the project a wheel or sdist file name names, if it is one."""
    base = target.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    try:
        if base.lower().endswith(".whl"):
            return str(parse_wheel_filename(base)[0])
        if base.lower().endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(base)[0])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _from_requirement(req: Requirement, path: Path) -> Dependency:
    notes: list[str] = []
    if req.extras:
        notes.append(f"extras: {', '.join(sorted(req.extras))}")
    if req.marker is not None:
        notes.append(f"environment marker: {req.marker}")
    if req.url:
        notes.insert(0, f"direct URL ({req.url}), not a registry release")
        return unpinned(req.name, "pypi", path, "; ".join(notes))
    exact = [
        s for s in req.specifier if s.operator in ("==", "===") and not s.version.endswith("*")
    ]
    if exact:
        return pinned(req.name, exact[0].version, "pypi", path, "; ".join(notes) or None)
    constraint = str(req.specifier)
    notes.insert(
        0, f"not pinned ({constraint})" if constraint else "not pinned (no version given)"
    )
    return unpinned(req.name, "pypi", path, "; ".join(notes))
