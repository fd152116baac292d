"""The interface every ecosystem module implements.

An ecosystem knows how to validate and normalise package names, how to parse,
canonicalise and order versions, and how to build a purl. Adding an ecosystem
is adding one module that subclasses :class:`Ecosystem` and registering it in
``foss_registry.ecosystems``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from functools import cmp_to_key
from typing import Any

from foss_registry.errors import FieldError, InvalidInputError

#: Longest version string any ecosystem accepts.
MAX_VERSION_LENGTH = 128
#: Longest package name accepted where the ecosystem sets no tighter limit.
MAX_NAME_LENGTH = 255
# Long enough to recognise the value, short enough to keep a message one line.
_SHOWN_LENGTH = 60


class InvalidNameError(InvalidInputError):
    """A package name is not valid for its ecosystem."""

    code = "invalid_name"


class InvalidVersionError(InvalidInputError):
    """A version string is not valid for its ecosystem."""

    code = "invalid_version"


def shown(value: str) -> str:
    """Return ``repr(value)`` for an error message, cut short when the value is long."""
    if len(value) <= _SHOWN_LENGTH:
        return repr(value)
    return f"{value[:_SHOWN_LENGTH]!r}... ({len(value)} characters)"


def name_error(message: str) -> InvalidNameError:
    """Build an InvalidNameError that also names the ``name`` field."""
    return InvalidNameError(message, errors=[FieldError("name", message)])


class InvalidRangeError(InvalidInputError):
    """A version range is not valid in its ecosystem's syntax."""

    code = "invalid_range"


def range_error(message: str) -> InvalidRangeError:
    """Build an InvalidRangeError that also names the ``range`` field."""
    return InvalidRangeError(message, errors=[FieldError("range", message)])


#: Longest version range any ecosystem accepts.
MAX_RANGE_LENGTH = 512


def clean_range(value: object, what: str) -> str:
    """Return a range trimmed, or raise InvalidRangeError if empty, too long or with controls."""
    problem = _problem(value, what, MAX_RANGE_LENGTH)
    if problem is not None:
        raise range_error(problem)
    return str(value).strip()


def version_error(message: str) -> InvalidVersionError:
    """Build an InvalidVersionError that also names the ``version`` field."""
    return InvalidVersionError(message, errors=[FieldError("version", message)])


# C0 and C1 controls, DEL and NUL: never part of a name or version, and
# dangerous in logs, file names and terminals.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _problem(value: object, what: str, max_length: int) -> str | None:
    """Return an actionable complaint about a submitted value, or None if it may be parsed."""
    if not isinstance(value, str):
        return f"The {what} must be a string, not {type(value).__name__}."
    text = value.strip()
    if not text:
        return f"The {what} is empty; give a non-empty value."
    control = _CONTROL.search(text)
    if control is not None:
        return (
            f"The {what} {shown(text)} contains the control character {control.group()!r}; "
            "remove it."
        )
    if len(text) > max_length:
        return (
            f"The {what} {shown(text)} is {len(text)} characters long; the maximum is {max_length}."
        )
    return None


def clean_name(value: object, what: str, max_length: int = MAX_NAME_LENGTH) -> str:
    """Return a name trimmed, or raise InvalidNameError if empty, too long or with controls.

    ``what`` names the value in the message, e.g. ``"PyPI package name"``.
    """
    problem = _problem(value, what, max_length)
    if problem is not None:
        raise name_error(problem)
    return str(value).strip()


def clean_version(value: object, what: str, max_length: int = MAX_VERSION_LENGTH) -> str:
    """Return a version trimmed, or raise InvalidVersionError if empty, too long or with controls.

    ``what`` names the value in the message, e.g. ``"npm version"``.
    """
    problem = _problem(value, what, max_length)
    if problem is not None:
        raise version_error(problem)
    return str(value).strip()


def encode_int(number: int) -> str:
    """Encode a non-negative integer so that string order equals numeric order.

    The digits are prefixed with their count (``a`` for one digit, ``b`` for two,
    up to ``y``; longer numbers get ``z`` and a three-digit count), so a longer
    number always sorts after a shorter one.
    """
    digits = str(number)
    if len(digits) <= 25:
        return chr(ord("a") + len(digits) - 1) + digits
    return f"z{len(digits):03d}{digits}"


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

    def normalize_range(self, text: str) -> str:
        """Return a range in the ecosystem's own syntax, normalised.

        Raises InvalidRangeError (naming the ``range`` field) when it does not
        parse, or when the ecosystem has no range syntax (the default).
        """
        raise range_error(f"The {self.name} ecosystem has no version ranges.")

    def in_range(self, normalized_range: str, version: str) -> bool:
        """Return whether a version lies in a range returned by :meth:`normalize_range`."""
        raise NotImplementedError(f"{self.name} has no version ranges")

    def compare(self, a: str, b: str) -> int:
        """Compare two versions: negative, zero or positive like ``cmp``."""
        ka, kb = self.sort_key(a), self.sort_key(b)
        return -1 if ka < kb else (1 if ka > kb else 0)

    def sorted_versions(self, versions: list[str], *, reverse: bool = False) -> list[str]:
        """Sort versions by the ecosystem's ordering."""
        return sorted(versions, key=cmp_to_key(self.compare), reverse=reverse)
