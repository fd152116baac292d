"""The interface every ecosystem module implements.

An ecosystem knows how to validate and normalise package names, how to parse,
canonicalise and order versions, and how to build a purl. Adding an ecosystem
is adding one module that subclasses :class:`Ecosystem` and registering it in
``foss_registry.ecosystems``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cmp_to_key
from typing import Any

from foss_registry.errors import InvalidInputError


class InvalidNameError(InvalidInputError):
    """A package name is not valid for its ecosystem."""

    code = "invalid_name"


class InvalidVersionError(InvalidInputError):
    """A version string is not valid for its ecosystem."""

    code = "invalid_version"


class Ecosystem(ABC):
    """Names, versions and purls of one package ecosystem."""

    #: API name, lower-case: ``pypi``, ``npm``, ``maven``, ``docker``.
    name: str
    #: Ecosystem name used by OSV records (``PyPI``, ``npm``, ``Maven``), None if OSV has none.
    osv_name: str | None

    @abstractmethod
    def validate_name(self, name: str) -> str:
        """Return the name as it should be displayed (trimmed), or raise InvalidNameError."""

    @abstractmethod
    def normalize_name(self, name: str) -> str:
        """Return the form under which two spellings of one package compare equal.

        Raises InvalidNameError for an invalid name.
        """

    @abstractmethod
    def canonical_version(self, version: str) -> str:
        """Return the canonical form used to judge two versions the same.

        Raises InvalidVersionError for a version invalid in this ecosystem.
        """

    @abstractmethod
    def sort_key(self, version: str) -> Any:
        """Return a key whose natural ordering is the ecosystem's version ordering."""

    @abstractmethod
    def sort_token(self, version: str) -> str:
        """Return a string whose lexicographic order equals the version order.

        Stored in the database so that SQL can order versions; versions that
        have no order in the ecosystem (Docker tags that are not versions,
        digests) return a token below every ordered version.
        """

    @abstractmethod
    def purl(self, name: str, version: str) -> str:
        """Return the package URL (purl) of one version."""

    def compare(self, a: str, b: str) -> int:
        """Compare two versions: negative, zero or positive like ``cmp``."""
        ka, kb = self.sort_key(a), self.sort_key(b)
        return -1 if ka < kb else (1 if ka > kb else 0)

    def sorted_versions(self, versions: list[str], *, reverse: bool = False) -> list[str]:
        """Sort versions by the ecosystem's ordering."""
        return sorted(versions, key=cmp_to_key(self.compare), reverse=reverse)
