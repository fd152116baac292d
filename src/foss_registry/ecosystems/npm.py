"""npm: package names as validate-npm-package-name accepts them, SemVer 2.0 versions."""

from __future__ import annotations

import re
from dataclasses import dataclass

import nodesemver
from packageurl import quote

from foss_registry.ecosystems.base import (
    Ecosystem,
    clean_name,
    clean_range,
    clean_version,
    encode_int,
    name_error,
    range_error,
    shown,
    version_error,
)

MAX_NAME_LENGTH = 214
# Names npm refuses outright, whatever their case.
_RESERVED = frozenset({"node_modules", "favicon.ico"})
# One part of a name (the scope or the package); capitals are allowed because
# legacy packages such as JSONStream still exist and are still served.
_PART = re.compile(r"^[A-Za-z0-9._-]+$")
_SCOPED = re.compile(r"^@([^/]*)/([^/]*)$")

# SemVer 2.0.0 as its specification gives it (no leading zeros in numbers or
# numeric pre-release identifiers); build metadata is matched but not kept.
_NUMBER = r"0|[1-9][0-9]*"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER = re.compile(
    rf"^(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})\.(?P<patch>{_NUMBER})"
    rf"(?:-(?P<pre>{_PRE_ID}(?:\.{_PRE_ID})*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$",
    re.ASCII,
)
# node-semver's clean() drops any run of leading "=" and "v".
_PREFIX = re.compile(r"^[=v]+")
#: node-semver refuses a major, minor or patch above JavaScript's largest safe integer.
MAX_SAFE_INTEGER = 2**53 - 1

PreKey = tuple[int, int, str]
SortKey = tuple[int, int, int, int, tuple[PreKey, ...]]


@dataclass(frozen=True)
class SemVer:
    """A parsed SemVer 2.0 version; build metadata is dropped as it has no precedence."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...]

    def __str__(self) -> str:
        core = f"{self.major}.{self.minor}.{self.patch}"
        return f"{core}-{'.'.join(self.prerelease)}" if self.prerelease else core

    def key(self) -> SortKey:
        """Return a tuple whose natural order is SemVer precedence."""
        # Numeric identifiers (0, n, "") sort below alphanumeric ones (1, 0, s);
        # tuple order already makes a shorter identifier list sort first.
        pre = tuple((0, int(i), "") if i.isdigit() else (1, 0, i) for i in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def token(self) -> str:
        """Return a string whose byte order is SemVer precedence."""
        parts = [encode_int(self.major), encode_int(self.minor), encode_int(self.patch)]
        if not self.prerelease:
            # "~" sorts above "-", so a release sorts above its pre-releases.
            parts.append("~")
            return "".join(parts)
        parts.append("-")
        for ident in self.prerelease:
            if ident.isdigit():
                parts.append("n" + encode_int(int(ident)))
            else:
                # "!" sorts below [0-9A-Za-z-], so "alpha" sorts before "alpha1".
                parts.append("p" + ident + "!")
        # A shorter list of identifiers is a prefix of a longer one and sorts first.
        return "".join(parts)


def parse_semver(version: str) -> SemVer:
    """Return the SemVer of a string (a leading ``v`` or ``=`` allowed), or raise."""
    text = clean_version(version, "npm version")
    match = _SEMVER.match(_PREFIX.sub("", text))
    if match is None:
        raise version_error(
            f"The npm version {shown(text)} is not a valid SemVer 2.0 version; use "
            "MAJOR.MINOR.PATCH with an optional '-prerelease' and '+build', "
            "e.g. '1.2.3' or '2.0.0-rc.1'."
        )
    pre = match.group("pre")
    numbers = [int(match.group(part)) for part in ("major", "minor", "patch")]
    if max(numbers) > MAX_SAFE_INTEGER:
        raise version_error(
            f"The npm version {shown(text)} has a number above {MAX_SAFE_INTEGER:,} "
            "(2^53-1), which npm refuses."
        )
    major, minor, patch = numbers
    return SemVer(major, minor, patch, tuple(pre.split(".")) if pre else ())


class Npm(Ecosystem):
    """The npm registry of JavaScript packages."""

    name = "npm"
    osv_name = "npm"

    def validate_name(self, name: str) -> str:
        """Return the name trimmed if npm accepts it (new or legacy rules)."""
        text = clean_name(name, "npm package name", MAX_NAME_LENGTH)
        if text[0] in "._":
            raise name_error(f"The npm package name {shown(text)} must not start with '.' or '_'.")
        if " " in text:
            raise name_error(f"The npm package name {shown(text)} must not contain spaces.")
        if text.lower() in _RESERVED:
            raise name_error(
                f"The npm package name {shown(text)} is reserved by npm; choose another name."
            )
        if text.startswith("@"):
            scoped = _SCOPED.match(text)
            if scoped is None or not all(_PART.match(p) for p in scoped.groups()):
                raise name_error(
                    f"The scoped npm package name {shown(text)} is not valid; use "
                    "'@scope/name' where scope and name use letters, digits, '-', '.' and '_'."
                )
        elif not _PART.match(text):
            raise name_error(
                f"The npm package name {shown(text)} is not valid; use letters, digits, "
                "'-', '.' and '_', or '@scope/name' for a scoped package."
            )
        return text

    def normalize_name(self, name: str) -> str:
        """Return the name as is: npm names are case-sensitive (JSONStream is not jsonstream)."""
        return self.validate_name(name)

    def canonical_version(self, version: str) -> str:
        """Return the SemVer string without a leading ``v`` and without build metadata."""
        return str(parse_semver(version))

    def sort_key(self, version: str) -> SortKey:
        """Return a tuple ordered by SemVer precedence."""
        return parse_semver(version).key()

    def sort_token(self, version: str) -> str:
        """Return a string whose byte order is SemVer precedence."""
        return parse_semver(version).token()

    def purl(self, name: str, version: str) -> str:
        """Return ``pkg:npm/<name>@<version>``, the scope's ``@`` percent-encoded.

        Built by hand because packageurl lower-cases npm names, which would merge
        legacy names such as ``JSONStream`` with different lower-case packages.
        """
        text = self.validate_name(name)
        path = "/".join(quote(part) for part in text.split("/"))
        return f"pkg:npm/{path}@{quote(self.canonical_version(version))}"

    def normalize_range(self, text: str) -> str:
        """Return the range as node-semver desugars it (``^1.2.3`` is ``>=1.2.3 <2.0.0``).

        ``*`` (every version) stays ``*``. Parsed strictly, as ``npm install`` does.
        """
        raw = clean_range(text, "npm version range")
        try:
            normalized = nodesemver.valid_range(raw, loose=False)
        except (ValueError, TypeError):
            normalized = None
        if normalized is None:
            raise range_error(
                f"The npm range {shown(raw)} is not a valid node-semver range; use a form "
                "like '^4.17.0', '~1.2.3', '>=1.0.0 <2.0.0', '1.x' or '1.2.3 - 1.4.0'."
            )
        return normalized or "*"

    def in_range(self, normalized_range: str, version: str) -> bool:
        """Whether the version satisfies the range under node-semver's rules.

        As npm does, a pre-release matches only a comparator naming the same
        major.minor.patch with a pre-release.
        """
        return bool(nodesemver.satisfies(self.canonical_version(version), normalized_range))
