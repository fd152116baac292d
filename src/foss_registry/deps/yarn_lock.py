"""Yarn lockfiles (``yarn.lock``), read as Yarn reads them: Yarn 1 (classic) and Yarn 2+ (Berry).

**Yarn 1** writes its own format, read here by a port of Yarn 1.22's own tokenizer
and parser (``src/lockfile/parse.js``): keys and values may be quoted or bare
(``version "1.6.2"``, ``"version" "1.6.2"`` and ``version 1`` are all the same
field), quoted strings are JSON strings, an entry header lists every specifier
that resolved to it (``"@babel/core@^7.0.0", "@babel/core@^7.1.0":``), nesting is
by two spaces, ``#`` starts a comment, and ``# yarn lockfile v2`` or above is
refused as Yarn 1 refuses it. Where that parser fails, Yarn 1 reads the file as
YAML, and so does this module.

**Berry** (Yarn 2 and later) writes YAML with a ``__metadata`` entry; each entry's
``resolution`` is the locator Yarn installs (``string-width@npm:4.2.3``), whatever
the specifiers in the header say (aliases such as ``string-width-cjs@npm:string-
width@^4.2.0``). The YAML is read with PyYAML, every scalar as a string, as Yarn
reads it with its failsafe schema.

What each entry becomes, in both formats:

* A registry release (Berry ``npm:`` resolution; a Yarn 1 semver range or tag,
  or an ``npm:`` alias) is pinned to its version under its real name.
* ``workspace:`` entries are the project itself, and ``patch:`` entries a patched
  copy of a release the file lists on its own (Yarn writes the unpatched entry
  too): both are left out silently.
* ``link:``, ``portal:`` (folders on disk, as npm links) and ``exec:`` (a package
  built by a script) are left out with a line in ``skipped``.
* ``file:``, git, GitHub shorthands and tarball URLs are unpinned, with a note
  naming where they came from: their content is not a registry release.

Several entries can resolve to one release (different specifiers, aliases), so
the list is deduplicated. Anything Yarn would refuse is a one-line
:class:`DependencyFileError` naming the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from foss_registry.deps.base import (
    Dependency,
    DependencyFileError,
    npm_non_registry,
    pinned,
    unpinned,
)

NAME = "yarn.lock"
DESCRIPTION = "yarn.lock"

#: The newest Yarn 1 lockfile version (``# yarn lockfile v1``).
_CLASSIC_VERSION = 1
_VERSION_COMMENT = re.compile(r"^yarn lockfile v(\d+)$")
#: Protocols of entries that are the project's own code, or a patched copy of a
#: release listed on its own: left out without a word.
_PROJECT_PROTOCOLS = ("workspace:", "patch:")
#: Protocols of entries that are folders on disk or built by a script: left out,
#: with a line in ``skipped``.
_LOCAL_PROTOCOLS = ("link:", "portal:", "exec:")
#: How Berry separates the specifiers of one entry's key.
_BERRY_KEYS = re.compile(r" *, *")
#: A Berry locator or descriptor: ``@scope/name@reference`` (Yarn's structUtils).
_LOCATOR = re.compile(r"^(?:@([^/]+?)/)?([^@/]+?)(?:@(.+))?$")


def matches(path: Path, head: bytes) -> bool:
    """Return whether the file is named ``yarn.lock`` or starts like one."""
    if path.name.lower() == "yarn.lock":
        return True
    start = head[:1024]
    return path.suffix.lower() == ".lock" and (
        b"# yarn lockfile v1" in start or b"\n__metadata:" in start
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    """One top-level entry: its specifiers, the line of its header and its fields."""

    line: int
    keys: tuple[str, ...]
    fields: dict[str, Any]


def parse(path: Path, text: str, skipped: list[str]) -> list[Dependency]:
    """Return each package the lockfile resolves, once, in the file's order."""
    if _has_merge_conflict(text):
        raise DependencyFileError(
            f"{path}: has unresolved merge conflict markers (<<<<<<<, =======, >>>>>>>); "
            "resolve them (yarn install does) and check again"
        )
    berry, entries = _entries(path, text)
    out: list[Dependency] = []
    seen: set[tuple[str, str | None]] = set()
    for entry in entries:
        if berry:
            dep = _berry_dependency(path, entry, skipped)
        else:
            dep = _classic_dependency(path, entry, skipped)
        if dep is None:
            continue
        key = (dep.name, dep.version if dep.pinned else dep.note)
        if key not in seen:
            seen.add(key)
            out.append(dep)
    return out


def _has_merge_conflict(text: str) -> bool:
    # Yarn 1's own test (hasMergeConflicts): all three markers anywhere in the file.
    return "<<<<<<<" in text and "=======" in text and ">>>>>>>" in text


def _entries(path: Path, text: str) -> tuple[bool, list[_Entry]]:
    """Return whether the file is a Berry lockfile, and its entries.

    As Yarn 1 does: its own format first, YAML where that fails. A file whose
    YAML has no ``__metadata`` is reported with the Yarn 1 parser's error.
    """
    try:
        return False, _ClassicParser(path, text).entries()
    except DependencyFileError as classic_error:
        try:
            document = _yaml_entries(path, text)
        except DependencyFileError as yaml_error:
            if "\n__metadata:" in "\n" + text:
                raise yaml_error from None
            raise classic_error from None
        if document is None:
            raise classic_error from None
        return True, document


# --- Yarn 1: a port of Yarn 1.22's tokenizer and parser ------------------------------

_NEWLINE, _COMMENT, _INDENT, _STRING, _NUMBER, _BOOLEAN = (
    "newline",
    "comment",
    "indent",
    "string",
    "number",
    "boolean",
)
_COLON, _COMMA, _INVALID, _EOF = "colon", "comma", "invalid", "eof"
_VALUE_TOKENS = (_STRING, _NUMBER, _BOOLEAN)
#: One token of Yarn 1's tokenizer, its branches in Yarn's order. A newline takes a
#: second "\n" with it (so a blank line does not end a block); a quoted string ends at
#: the first '"' not escaped by a single backslash, or at the end of the text.
_TOKEN = re.compile(
    r"""(?P<newline>[\n\r]\n?)
    |(?P<comment>\#[^\n]*)
    |(?P<spaces>\ +)
    |(?P<quoted>"(?:[^"]|(?<=[^\\]\\)")*(?:"|\Z))
    |(?P<number>[0-9]+)
    |(?P<true>true)
    |(?P<false>false)
    |(?P<colon>:)
    |(?P<comma>,)
    |(?P<bare>[a-zA-Z/.\-][^:\ \n\r,]*)""",
    re.VERBOSE,
)
#: A quoted string without escapes or control characters: its JSON value is its inside.
_PLAIN_QUOTED = re.compile(r'"[^"\\\x00-\x1f]*"')
#: How a ``resolved`` value that is not a tarball URL starts (git, a folder).
_NOT_TARBALL = ("git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "file:", "ssh:")


class _Token(NamedTuple):
    kind: str
    line: int
    col: int
    value: Any = None


def _tokens(path: Path, text: str) -> Iterator[_Token]:
    """Yield Yarn 1's tokens (``tokenise`` in its ``lockfile/parse.js``)."""
    pos, line, line_start, last_newline = 0, 1, 0, False
    end = len(text)
    match = _TOKEN.match
    while pos < end:
        found = match(text, pos)
        col = pos - line_start
        if found is None:
            # Yarn loops on such a character until its parser gives up: the same error.
            yield _Token(_INVALID, line, col, text[pos])
            return
        kind, token = found.lastgroup, found.group()
        newline = False
        if kind == "newline":
            yield _Token(_NEWLINE, line, col)
            # Yarn counts one line for "\n\n"; the count here is the file's.
            line += 2 if token == "\n\n" else 1
            line_start = found.end()
            newline = token[0] == "\n" or token == "\r\n"
        elif kind == "comment":
            yield _Token(_COMMENT, line, col, token[1:])
        elif kind == "spaces":
            if last_newline:
                if len(token) % 2:
                    raise DependencyFileError(
                        f"{path} line {line}: indented by an odd number of spaces ({len(token)})"
                    )
                yield _Token(_INDENT, line, col, len(token) // 2)
        elif kind == "quoted":
            if _PLAIN_QUOTED.fullmatch(token):
                yield _Token(_STRING, line, col, token[1:-1])
            else:
                try:
                    value = json.loads(token)
                except ValueError:
                    yield _Token(_INVALID, line, col, token)
                else:
                    yield _Token(_STRING, line, col, value)
        elif kind == "number":
            yield _Token(_NUMBER, line, col, int(token))
        elif kind == "true" or kind == "false":
            yield _Token(_BOOLEAN, line, col, kind == "true")
        elif kind == "colon":
            yield _Token(_COLON, line, col)
        elif kind == "comma":
            yield _Token(_COMMA, line, col)
        else:
            yield _Token(_STRING, line, col, token)
        last_newline = newline
        pos = found.end()
    yield _Token(_EOF, line, pos - line_start)


class _ClassicParser:
    """Yarn 1's recursive parser (``Parser`` in its ``lockfile/parse.js``).

    Keys that share one block share one dict, as in Yarn; the top level also
    remembers the line of each block's first key.
    """

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.tokens = _tokens(path, text)
        self.token = _Token(_EOF, 1, 0)
        self.lines: dict[int, int] = {}

    def entries(self) -> list[_Entry]:
        self.next()
        top = self.parse(0)
        if self.token.kind != _EOF:
            # Yarn 1 silently ignores the rest of such a file; a gate must not.
            raise self.unexpected("expected an entry or a field of the entry above")
        keys_of: dict[int, list[str]] = {}
        blocks: dict[int, Any] = {}
        for key, value in top.items():
            keys_of.setdefault(id(value), []).append(key)
            blocks[id(value)] = value
        return [
            _Entry(self.lines[ident], tuple(keys), blocks[ident]) for ident, keys in keys_of.items()
        ]

    def next(self) -> _Token:
        for token in self.tokens:
            if token.kind != _COMMENT:
                self.token = token
                return token
            found = _VERSION_COMMENT.match(token.value.strip())
            if found and int(found.group(1)) > _CLASSIC_VERSION:
                raise DependencyFileError(
                    f"{self.path} line {token.line}: lockfile version {found.group(1)} is "
                    f"newer than Yarn 1 reads (v{_CLASSIC_VERSION})"
                )
        raise DependencyFileError(f"{self.path}: ends in the middle of an entry")

    def unexpected(self, what: str) -> DependencyFileError:
        token = self.token
        if token.kind == _EOF:
            found = "the end of the file"
        elif token.kind == _NEWLINE:
            found = "the end of the line"
        elif token.kind == _INVALID and token.value.startswith('"'):
            found = "a quoted string that is not terminated or not valid JSON"
        elif token.kind == _INDENT:
            found = f"an indentation of {token.value * 2} spaces"
        elif token.value is None:
            found = f"a {token.kind}"
        else:
            found = repr(token.value)
        return DependencyFileError(
            f"{self.path} line {token.line} column {token.col + 1}: {what}, found {found}"
        )

    def parse(self, indent: int) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        while True:
            token = self.token
            if token.kind == _NEWLINE:
                following = self.next()
                if not indent:
                    continue
                if following.kind != _INDENT or following.value != indent:
                    break
                self.next()
            elif token.kind == _INDENT:
                if token.value != indent:
                    break
                self.next()
            elif token.kind == _EOF:
                break
            elif token.kind == _STRING:
                keys = [self._key()]
                self.next()
                while self.token.kind == _COMMA:
                    self.next()
                    if self.token.kind != _STRING:
                        raise self.unexpected("expected another specifier after ','")
                    keys.append(self._key())
                    self.next()
                was_colon = self.token.kind == _COLON
                if was_colon:
                    self.next()
                if self.token.kind in _VALUE_TOKENS:
                    if not indent:
                        raise DependencyFileError(
                            f"{self.path} line {token.line}: {keys[0]} is a value, "
                            "not an entry with fields"
                        )
                    for key in keys:
                        obj[key] = self.token.value
                    self.next()
                elif was_colon:
                    value = self.parse(indent + 1)
                    if not indent:
                        self.lines[id(value)] = token.line
                    for key in keys:
                        obj[key] = value
                    if indent and self.token.kind != _INDENT:
                        break
                else:
                    raise self.unexpected("expected ':' or a value after the key")
            else:
                raise self.unexpected("expected a key")
        return obj

    def _key(self) -> str:
        key = self.token.value
        if not key:
            raise self.unexpected("expected a key")
        assert isinstance(key, str)
        return key


def _split_pattern(pattern: str) -> tuple[str, str]:
    """Split ``name@range`` as Yarn 1's ``normalizePattern`` does (scoped names too)."""
    scoped = pattern.startswith("@")
    name, at, rng = pattern[int(scoped) :].partition("@")
    if scoped:
        name = "@" + name
    return name, (rng or "*") if at else "latest"


def _text(value: Any) -> str:
    """A field's value as Yarn 1 would print it (numbers unquoted in the file are numbers)."""
    if isinstance(value, bool) or value is None or isinstance(value, dict):
        return ""
    return str(value)


def _classic_dependency(path: Path, entry: _Entry, skipped: list[str]) -> Dependency | None:
    name, rng = _split_pattern(entry.keys[0])
    if rng.startswith("npm:"):
        # An alias (``string-width-cjs@npm:string-width@^4.2.0``) installs the real
        # package; ``name@npm:^1.2`` is the same package from the registry.
        rng = rng[4:]
        if "@" in rng[1:]:
            name, rng = _split_pattern(rng)
    if not name or name == "@":
        raise DependencyFileError(
            f"{path} line {entry.line}: entry {entry.keys[0]!r} names no package"
        )
    version = _text(entry.fields.get("version"))
    resolved = _text(entry.fields.get("resolved"))
    if rng.startswith(_PROJECT_PROTOCOLS):
        return None
    if rng.startswith(_LOCAL_PROTOCOLS):
        skipped.append(f"{path}: {name} is {rng}, not a registry package; skipped")
        return None
    # A range with a slash is a GitHub shorthand (``user/repo#tag``); semver has none.
    if npm_non_registry(rng) or "/" in rng or resolved.startswith(_NOT_TARBALL):
        return _not_registry(path, entry, name, resolved or rng, version)
    if not version:
        return unpinned(name, "npm", path, "no version in the lockfile", line=entry.line)
    return pinned(
        name,
        version,
        "npm",
        path,
        line=entry.line,
        # Yarn 1 appends the tarball's SHA-1 to the URL: ``...tgz#<sha1>``.
        resolved=resolved.split("#", 1)[0] or None,
        integrity=_text(entry.fields.get("integrity")) or None,
    )


def _not_registry(path: Path, entry: _Entry, name: str, where: str, version: str) -> Dependency:
    stated = f" (version {version})" if version else ""
    note = f"resolved from {where}{stated}, not a registry release"
    return unpinned(name, "npm", path, note, line=entry.line)


# --- Berry: YAML -----------------------------------------------------------------------

#: The base loader resolves no implicit types, as Yarn's failsafe schema (and is faster).
_Loader: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def _yaml_entries(path: Path, text: str) -> list[_Entry] | None:
    """Return the entries of a YAML lockfile with ``__metadata``, else None.

    Nodes are read without constructing Python values, so every scalar stays the
    string the file wrote (Yarn's failsafe schema) and each entry keeps its line.
    """
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise DependencyFileError(
            f"{path}{where}: not valid YAML ({exc.problem or exc.context})"
        ) from None
    except yaml.YAMLError as exc:
        raise DependencyFileError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(root, yaml.MappingNode):
        return None
    entries: list[_Entry] = []
    metadata = False
    for key_node, value_node in root.value:
        key = _scalar(key_node)
        line = key_node.start_mark.line + 1
        if key == "__metadata":
            metadata = True
            continue
        if key is None or not isinstance(value_node, yaml.MappingNode):
            raise DependencyFileError(
                f"{path} line {line}: an entry is a block of fields under its specifiers"
            )
        fields = {field: _scalar(value) for field, value in _pairs(value_node) if field is not None}
        entries.append(_Entry(line, tuple(_BERRY_KEYS.split(key.strip())), fields))
    return entries if metadata else None


def _scalar(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _pairs(node: yaml.MappingNode) -> Iterator[tuple[str | None, yaml.Node]]:
    for key_node, value_node in node.value:
        yield _scalar(key_node), value_node


def _berry_dependency(path: Path, entry: _Entry, skipped: list[str]) -> Dependency | None:
    resolution = entry.fields.get("resolution")
    found = _LOCATOR.match(resolution or "")
    if found is None or not found.group(3):
        # Yarn stops on such an entry too ("Expected the lockfile entry to have a resolution").
        raise DependencyFileError(
            f"{path} line {entry.line}: entry {', '.join(entry.keys)!r} has no resolution "
            "naming a package (name@protocol:reference)"
        )
    scope, bare, reference = found.groups()
    name = f"@{scope}/{bare}" if scope else bare
    # Parameters after '::' say where in the project a locator was found, not what it is.
    reference, _, _params = reference.partition("::")
    version = entry.fields.get("version") or ""
    if reference.startswith("npm:"):
        resolved_version = reference[4:]
        if not resolved_version:
            raise DependencyFileError(
                f"{path} line {entry.line}: resolution {resolution!r} names no version"
            )
        return pinned(name, resolved_version, "npm", path, line=entry.line)
    if reference.startswith(_PROJECT_PROTOCOLS):
        return None
    if reference.startswith(_LOCAL_PROTOCOLS):
        skipped.append(f"{path}: {name} is {reference}, not a registry package; skipped")
        return None
    return _not_registry(path, entry, name, reference, version)
