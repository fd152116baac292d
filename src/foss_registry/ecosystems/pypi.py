"""PyPI: PEP 508 names matched by their PEP 503 form, PEP 440 versions."""

from __future__ import annotations

import re

from packageurl import PackageURL
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

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

# PEP 508 project names; ASCII only, so re.ASCII keeps \w-like surprises out.
_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE | re.ASCII)
_SEPARATORS = re.compile(r"[-_.]+")

# Ranks of the pre-release part of the PEP 440 ordering, as single characters:
# a development release without pre or post part sorts below every alpha, and a
# version without pre-release sorts above every release candidate.
_PRE_DEV_ONLY = "A"
_PRE_RANK = {"a": "B", "b": "C", "rc": "D"}
_PRE_NONE = "E"


def parse_version(version: str) -> Version:
    """Return the PEP 440 version of a string, or raise InvalidVersionError."""
    text = clean_version(version, "PyPI version")
    try:
        return Version(text)
    except InvalidVersion:
        raise version_error(
            f"The PyPI version {shown(text)} is not a valid PEP 440 version; "
            "use a form like '1.2.3', '2.0rc1', '1.0.post1' or '1.0.dev2'."
        ) from None


def version_token(parsed: Version) -> str:
    """Return the sort token of a parsed PEP 440 version (shared with Docker tags).

    Mirrors packaging's comparison key field by field: epoch, release without
    trailing zeros, pre-release rank and number, post-release, development
    release, then the local part.
    """
    release = list(parsed.release)
    while release and release[-1] == 0:
        release.pop()
    # "." sorts below the "a".."z" length prefix of encode_int, so a release that
    # is a prefix of another (1.2 vs 1.2.1) sorts first.
    parts = [encode_int(parsed.epoch), *(encode_int(n) for n in release), "."]
    if parsed.pre is not None:
        parts += [_PRE_RANK[parsed.pre[0]], encode_int(parsed.pre[1])]
    elif parsed.post is None and parsed.dev is not None:
        parts.append(_PRE_DEV_ONLY)
    else:
        parts.append(_PRE_NONE)
    parts.append("0" if parsed.post is None else "1" + encode_int(parsed.post))
    parts.append("1" if parsed.dev is None else "0" + encode_int(parsed.dev))
    if parsed.local is not None:
        # Without a local part the token ends here and so sorts first. Local
        # segments: strings ("B", ended by "!" which sorts below [a-z0-9]) before
        # numbers ("C"); a shorter local part is a prefix and sorts first.
        parts.append("+")
        for segment in parsed.local.split("."):
            if segment.isdigit():
                parts.append("C" + encode_int(int(segment)))
            else:
                parts.append("B" + segment + "!")
    return "".join(parts)


class PyPI(Ecosystem):
    """The Python Package Index."""

    name = "pypi"
    osv_name = "PyPI"

    def validate_name(self, name: str) -> str:
        """Return the name trimmed if it is a valid PEP 508 project name."""
        text = clean_name(name, "PyPI package name")
        if not _NAME.match(text):
            raise name_error(
                f"The PyPI package name {shown(text)} is not valid; use ASCII letters, digits, "
                "'.', '_' and '-', starting and ending with a letter or digit."
            )
        return text

    def normalize_name(self, name: str) -> str:
        """Return the PEP 503 form: lower-case, runs of ``-_.`` replaced by one ``-``."""
        return _SEPARATORS.sub("-", self.validate_name(name)).lower()

    def canonical_version(self, version: str) -> str:
        """Return the PEP 440 normal form without trailing zero release parts (1.0 = 1.0.0)."""
        return canonicalize_version(parse_version(version))

    def sort_key(self, version: str) -> Version:
        """Return the packaging Version, which orders by PEP 440."""
        return parse_version(version)

    def sort_token(self, version: str) -> str:
        """Return a string whose byte order is the PEP 440 order."""
        return version_token(parse_version(version))

    def purl(self, name: str, version: str) -> str:
        """Return ``pkg:pypi/<PEP 503 name>@<PEP 440 normal form>``."""
        return PackageURL(
            type="pypi", name=self.normalize_name(name), version=str(parse_version(version))
        ).to_string()

    def normalize_range(self, text: str) -> str:
        """Return a PEP 440 specifier set (``>=4.2,<4.3``), its clauses in a stable order."""
        raw = clean_range(text, "PyPI version range")
        try:
            specifiers = SpecifierSet(raw)
        except InvalidSpecifier:
            raise range_error(
                f"The PyPI range {shown(raw)} is not a valid PEP 440 specifier set; "
                "use a form like '>=4.2,<4.3', '~=4.2.0' or '==4.2.*'."
            ) from None
        if not len(specifiers):
            raise range_error("The PyPI range is empty; give at least one specifier.")
        return str(specifiers)

    def in_range(self, normalized_range: str, version: str) -> bool:
        """Whether the version satisfies the specifiers (pre-releases only when one names them)."""
        return SpecifierSet(normalized_range).contains(parse_version(version))
