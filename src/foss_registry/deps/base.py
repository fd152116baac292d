"""The value type, the error and the shared helpers of the dependency-file parsers.

Every format module imports from here (never from the package ``__init__``) so
that the registry of formats in ``__init__`` can import the modules without a
cycle.
"""

from __future__ import annotations

import codecs
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name, canonicalize_version

from foss_registry.errors import InvalidInputError

#: The most dependencies one gate run accepts, over all of its files (DESIGN: the client
#: refuses a lockfile of more than 50,000 dependencies).
MAX_DEPENDENCIES = 50_000

#: Bytes read from the start of a file to detect its format and whether it is binary.
HEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Dependency:
    """One dependency read from a file.

    ``name`` is spelled as the file spells it (the registry normalises names on
    lookup); Maven names are ``groupId:artifactId`` and scoped npm names keep their
    scope (``@babel/core``). ``pinned`` is true exactly when ``version`` names one
    registry release; otherwise ``version`` is None and ``note`` says why.
    ``source`` is the path of the file the dependency was read from, as given
    (an included requirements file is named by its own path), and ``line`` the
    line (from 1) where the file names it, where the format has lines.
    ``license``, ``resolved`` and ``integrity`` are what the file declares, if
    it does: ``--submit-missing`` sends them with the submission.
    """

    name: str
    version: str | None
    ecosystem: str
    source: str
    pinned: bool
    note: str | None = None
    # What the file says about the dependency besides naming it: not part of its identity.
    line: int | None = field(default=None, compare=False)
    license: str | None = field(default=None, compare=False)
    resolved: str | None = field(default=None, compare=False)
    integrity: str | None = field(default=None, compare=False)


class DependencyFileError(InvalidInputError):
    """A dependency file cannot be read or parsed; the detail is one line naming the file."""

    code = "invalid_dependency_file"

    def __init__(self, detail: str) -> None:
        # A message with newlines would break the one-line error of the CLI gate.
        super().__init__(" ".join(detail.split()))


def pinned(
    name: str,
    version: str,
    ecosystem: str,
    source: Path,
    note: str | None = None,
    *,
    line: int | None = None,
    license: str | None = None,
    resolved: str | None = None,
    integrity: str | None = None,
) -> Dependency:
    """Return a dependency pinned to one registry release."""
    return Dependency(
        name, version, ecosystem, str(source), True, note, line, license, resolved, integrity
    )


def unpinned(
    name: str, ecosystem: str, source: Path, note: str, *, line: int | None = None
) -> Dependency:
    """Return a dependency without a registry version; ``note`` says why."""
    return Dependency(name, None, ecosystem, str(source), False, note, line)


def dedupe_key(dep: Dependency) -> tuple[str, str, str | None]:
    """Return the key under which two spellings of one dependency compare equal."""
    name = dep.name
    version = dep.version
    if dep.ecosystem == "pypi":
        # PEP 503: Flask, flask and FLASK are one project; 1.0 and 1.0.0 one release.
        name = canonicalize_name(name)
        if version is not None:
            version = canonicalize_version(version)
    elif dep.ecosystem == "docker":
        name = name.lower()
    return (dep.ecosystem, name, version)


def is_binary(head: bytes) -> bool:
    """Return whether the start of a file looks binary (a NUL byte outside a UTF-16 text)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in head


def read_head(path: Path) -> bytes:
    """Return the first bytes of a file as UTF-8 where it is UTF-16 text.

    Raises DependencyFileError if the file cannot be read.
    """
    try:
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
    except FileNotFoundError:
        raise DependencyFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DependencyFileError(f"{path}: is a directory, not a dependency file") from None
    except OSError as exc:
        raise DependencyFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Formats are recognised by ASCII markers, so look at UTF-16 files as UTF-8.
        return head.decode("utf-16", errors="ignore").encode()
    return head.removeprefix(codecs.BOM_UTF8)


def read_text(path: Path) -> str:
    """Return the text of a file, refusing binary content and undecodable bytes."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DependencyFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DependencyFileError(f"{path}: is a directory, not a dependency file") from None
    except OSError as exc:
        raise DependencyFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if is_binary(data[:HEAD_BYTES]):
        raise DependencyFileError(f"{path}: is a binary file, not a dependency file")
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            # Some Windows tools write SBOMs as UTF-16 with a byte-order mark.
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DependencyFileError(
            f"{path}: is not UTF-8 text (bad byte at offset {exc.start}); "
            "is it a binary file?"
        ) from None


def load_json(path: Path, text: str) -> Any:
    """Parse JSON text, turning every failure into a one-line DependencyFileError."""
    if not text.strip():
        raise DependencyFileError(f"{path}: is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # An unterminated string runs to the end of the text: truncated there too.
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise DependencyFileError(
                f"{path}: JSON ends early at line {exc.lineno} (truncated file?)"
            ) from None
        raise DependencyFileError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise DependencyFileError(f"{path}: JSON is nested too deeply") from None


def load_toml(path: Path, text: str) -> dict[str, Any]:
    """Parse TOML text, turning every failure into a one-line DependencyFileError."""
    if not text.strip():
        raise DependencyFileError(f"{path}: is empty")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DependencyFileError(f"{path}: invalid TOML (truncated file?): {exc}") from None


def expect(cond: bool, path: Path, what: str) -> None:
    """Raise DependencyFileError saying ``what`` is wrong with the file unless ``cond``."""
    if not cond:
        raise DependencyFileError(f"{path}: {what}")


_NON_REGISTRY_PREFIXES = ("git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "file:",
                          "link:", "portal:", "http:", "https:")


def npm_non_registry(spec: str) -> bool:
    """Return whether an npm version spec or resolved value points outside the registry."""
    return spec.startswith(_NON_REGISTRY_PREFIXES) or "://" in spec


_WS = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Collapse whitespace so a value quoted in a note stays on one line."""
    return _WS.sub(" ", text).strip()
