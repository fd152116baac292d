"""Maven: ``groupId:artifactId`` names, versions ordered as Maven's ComparableVersion.

The version logic follows ComparableVersion of Maven 3.9 (maven-artifact),
written here rather than taken from univers, whose MavenVersion follows an
older Maven: there ``1.0.RELEASE`` sorts above ``1.0`` and ``1.0.0.RC1`` above
``1.0.0-RC1``, where Maven 3.9 treats both pairs as equal.

A version parses into a list of items: numbers, qualifier strings and one
trailing sub-list, started by ``-`` or by a switch between letters and digits.
Trailing zeros, empty qualifiers (``ga``, ``final``, ``release``) and empty
sub-lists are dropped, which makes ``1``, ``1.0``, ``1.0.0``, ``1-ga`` and
``1.0.Final`` one version. Two items at the same position compare as
qualifier < sub-list < number; a missing item compares as ``0`` or ``""``.
"""

from __future__ import annotations

import functools
import re
from itertools import zip_longest
from typing import Any, TypeAlias

from packageurl import PackageURL

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
from foss_registry.errors import InvalidInputError

_PART = re.compile(r"^[A-Za-z0-9_.-]+$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")

# Known qualifiers, oldest first; "" is a release. Unknown ones sort after "sp".
_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_RELEASE = _QUALIFIERS.index("")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
# One-letter qualifiers directly followed by a digit (1.0b2 = 1.0-beta-2).
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}

Item: TypeAlias = "int | str | ItemList"


class ItemList(list[Item]):
    """A list of version items (numbers, qualifiers, at most one trailing sub-list)."""


def _qualifier_key(qualifier: str) -> tuple[int, str]:
    """Order qualifiers: known ones by their rank, then unknown ones alphabetically."""
    if qualifier in _QUALIFIERS:
        return (_QUALIFIERS.index(qualifier), "")
    return (len(_QUALIFIERS), qualifier)


def _is_null(item: Item) -> bool:
    """Return whether an item equals a missing one (0, a release qualifier, an empty list)."""
    if isinstance(item, int):
        return item == 0
    if isinstance(item, str):
        return item == ""
    return not item


def _sign(a: Any, b: Any) -> int:
    """Return -1, 0 or 1 as a is below, equal to or above b."""
    return int(a > b) - int(a < b)


def _compare(left: Item | None, right: Item | None) -> int:
    """Compare two items the way ComparableVersion does; None is a missing item."""
    if left is None:
        return 0 if right is None else -_compare(right, None)
    if isinstance(left, int):
        if right is None:
            return 0 if left == 0 else 1
        if isinstance(right, int):
            return _sign(left, right)
        return 1
    if isinstance(left, str):
        if right is None:
            return _sign(_qualifier_key(left), (_RELEASE, ""))
        if isinstance(right, str):
            return _sign(_qualifier_key(left), _qualifier_key(right))
        return -1
    if right is None:
        for item in left:
            result = _compare(item, None)
            if result:
                return result
        return 0
    if isinstance(right, int):
        return -1
    if isinstance(right, str):
        return 1
    for a, b in zip_longest(left, right):
        result = _compare(a, b)
        if result:
            return result
    return 0


def _normalize(items: ItemList) -> None:
    """Drop null items from the end, looking past a trailing sub-list."""
    for index in range(len(items) - 1, -1, -1):
        item = items[index]
        if _is_null(item):
            del items[index]
        elif not isinstance(item, ItemList):
            break


def _qualifier(text: str, followed_by_digit: bool) -> str:
    """Return the qualifier a string stands for, aliases resolved."""
    if followed_by_digit and text in _SHORT:
        text = _SHORT[text]
    return _ALIASES.get(text, text)


def _item(text: str, is_digit: bool) -> int | str:
    """Return a number for a run of digits, else a qualifier."""
    return int(text) if is_digit else _qualifier(text, False)


def parse_items(version: str) -> ItemList:
    """Parse a version into Maven's normalised item tree."""
    text = version.lower()
    root = ItemList()
    current = root
    stack = [root]

    def sublist() -> ItemList:
        child = ItemList()
        current.append(child)
        stack.append(child)
        return child

    is_digit = False
    start = 0
    for index, char in enumerate(text):
        if char in ".-":
            current.append(0 if index == start else _item(text[start:index], is_digit))
            start = index + 1
            if char == "-":
                current = sublist()
        elif "0" <= char <= "9":
            if not is_digit and index > start:
                # A qualifier directly before digits opens its own sub-list, even
                # after a dot, so 1.0.0.RC1 is the same as 1.0.0-RC1.
                if current:
                    current = sublist()
                current.append(_qualifier(text[start:index], True))
                start = index
                current = sublist()
            is_digit = True
        else:
            if is_digit and index > start:
                current.append(int(text[start:index]))
                start = index
                current = sublist()
            is_digit = False
    if len(text) > start:
        # The same for a trailing qualifier: 1.0.RELEASE is 1.0-RELEASE.
        if not is_digit and current:
            current = sublist()
        current.append(_item(text[start:], is_digit))
    for items in reversed(stack):
        _normalize(items)
    return root


def canonical_string(items: ItemList) -> str:
    """Return a string that names exactly one item tree, and parses back into it.

    Maven's own canonical form, except where that form is ambiguous: an empty
    qualifier inside a list is written ``ga`` (Maven writes nothing), a list
    that starts with a sub-list gets a leading ``0`` (Maven writes nothing, so
    ``1-0-1`` and ``1-1`` would look alike), a qualifier ending a list that is
    not its first item gets ``-0`` (else it would parse as a sub-list), and the
    empty version is ``0``.
    """
    if not items:
        return "0"
    out: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, ItemList):
            if index == 0:
                out.append("0")
            out.append("-" + canonical_string(item))
            continue
        if index:
            out.append(".")
        if isinstance(item, int):
            out.append(str(item))
        else:
            out.append(item or "ga")
            if index and index == len(items) - 1:
                out.append("-0")
    return "".join(out)


def _null_sign(items: ItemList) -> int:
    """Return how a list compares with a missing item."""
    return _compare(items, None)


#: The end of a version's token: a missing item at every later position.
_END = "CD"


def _token_atoms(items: ItemList, out: list[str]) -> None:
    """Append the token atoms of a list's items to out.

    Each atom starts with a class letter ordered like the items it stands for at
    one position, with the end of the version placed where a missing item falls:
    qualifiers below a release ("A") < sub-lists that sort below a missing item
    ("B") < a missing item ("C") < other qualifiers ("D") < other sub-lists ("E")
    < numbers ("F"). A sub-list is the last item of its parent, so its items
    simply follow and the one end at the very end closes every list.

    A null item (``0``, a release qualifier) left inside a list because
    something follows it compares as equal to a missing item, so Maven goes on
    to what follows; its atom depends on that rest. A ``0`` before a rest
    that sorts below a missing item (``3.7.0.rc.3``) is a "C" like the end's
    first letter, and the end's "D" then sorts above the rest's "A" or "B"
    (3.7.0.rc.3 < 3.7.0); before a rest above a missing item it is a number
    (1.0.1 > 1.sp). A release qualifier sorts between "A" qualifiers and "B"
    sub-lists ("A~") before a rest below a missing item, and between the end
    and "D" ("Cz") before a rest above it. Where Maven's own order is not
    transitive (``1.0.alpha`` < ``1`` < ``1.sp`` < ``1.0.alpha``) no token can
    follow every pair; these choices keep the common forms right.
    """
    for index, item in enumerate(items):
        if isinstance(item, int):
            if item == 0:
                rest_sign = _null_sign(ItemList(items[index + 1 :]))
                out.append("C" if rest_sign < 0 else "F" + encode_int(0))
            else:
                out.append("F" + encode_int(item))
        elif isinstance(item, str):
            rank, unknown = _qualifier_key(item)
            if rank < _RELEASE:
                out.append(f"A{rank}")
            elif rank == _RELEASE:
                rest_sign = _null_sign(ItemList(items[index + 1 :]))
                out.append("A~" if rest_sign < 0 else "Cz")
            elif rank < len(_QUALIFIERS):
                out.append(f"D{rank}")
            else:
                # "!" sorts below every character a qualifier can hold.
                out.append(f"D{rank}{unknown}!")
        else:
            out.append("B" if _null_sign(item) < 0 else "E")
            _token_atoms(item, out)


@functools.total_ordering
class MavenVersion:
    """A Maven version, ordered as Maven's ComparableVersion orders it."""

    __slots__ = ("items", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.items = parse_items(text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MavenVersion):
            return NotImplemented
        return _compare(self.items, other.items) == 0

    def __lt__(self, other: MavenVersion) -> bool:
        return _compare(self.items, other.items) < 0

    def __hash__(self) -> int:
        return hash(self.canonical)

    def __repr__(self) -> str:
        return f"MavenVersion({self.text!r})"

    @property
    def canonical(self) -> str:
        """The canonical string: equal for exactly the versions Maven treats as equal."""
        return canonical_string(self.items)

    @property
    def token(self) -> str:
        """A string whose byte order is Maven's order.

        Exact for versions whose qualifiers open a sub-list (after ``-``, next
        to digits, or at the end), which covers the common forms. Two rare
        shapes may sort slightly off, because Maven's order itself is not
        transitive there: a qualifier between dots with more after it
        (``1.0.sp.1``), and a sub-list whose first part Maven drops, a zero or
        release qualifier before another sub-list (``1-0-alpha``, ``1-ga-1``).
        """
        out: list[str] = []
        _token_atoms(self.items, out)
        out.append(_END)
        return "".join(out)


def parse_version(version: str) -> MavenVersion:
    """Return the Maven version of a string, or raise InvalidVersionError."""
    text = clean_version(version, "Maven version")
    if not _VERSION.match(text):
        raise version_error(
            f"The Maven version {shown(text)} is not valid; use letters, digits, '.', '-', "
            "'_' and '+', starting with a letter or digit, e.g. '2.14.1' or '1.0-SNAPSHOT'."
        )
    return MavenVersion(text)


class Maven(Ecosystem):
    """Maven Central and compatible Maven repositories."""

    name = "maven"
    osv_name = "Maven"

    def validate_name(self, name: str) -> str:
        """Return ``groupId:artifactId`` trimmed, or raise InvalidNameError."""
        text = clean_name(name, "Maven package name")
        parts = text.split(":")
        if len(parts) != 2:
            raise name_error(
                f"The Maven package name {shown(text)} must be 'groupId:artifactId' with "
                "exactly one ':', e.g. 'org.apache.logging.log4j:log4j-core'."
            )
        for label, part in zip(("groupId", "artifactId"), parts, strict=True):
            if not _PART.match(part):
                raise name_error(
                    f"The {label} of the Maven package name {shown(text)} is "
                    f"{'empty' if not part else 'not valid'}; use letters, digits, '.', '_' "
                    "and '-'."
                )
        return text

    def normalize_name(self, name: str) -> str:
        """Return the name as is: Maven coordinates are case-sensitive."""
        return self.validate_name(name)

    def canonical_version(self, version: str) -> str:
        """Return a canonical form, the same for versions Maven treats as equal (1.0 = 1-ga)."""
        return parse_version(version).canonical

    def sort_key(self, version: str) -> MavenVersion:
        """Return a MavenVersion, ordered as Maven's ComparableVersion."""
        return parse_version(version)

    def sort_token(self, version: str) -> str:
        """Return a string whose byte order is Maven's version order."""
        return parse_version(version).token

    def normalize_range(self, text: str) -> str:
        """Return a Maven range (``[1.0,2.0)``) without spaces; a bare version as ``[v]``."""
        raw = clean_range(text, "Maven version range")
        try:
            intervals = parse_range(raw)
        except (ValueError, InvalidInputError) as exc:
            detail = exc.detail if isinstance(exc, InvalidInputError) else str(exc)
            raise range_error(
                f"The Maven range {shown(raw)} is not a valid version range ({detail}); use "
                "a form like '[1.0,2.0)', '[1.2,)', '(,1.0]' or '[1.5]'."
            ) from None
        return ",".join(_render_interval(*interval) for interval in intervals)

    def in_range(self, normalized_range: str, version: str) -> bool:
        """Whether the version lies in one of the range's intervals (Maven's ordering)."""
        parsed = parse_version(version)
        for low, low_in, high, high_in in parse_range(normalized_range):
            if low is not None and (parsed < low or (parsed == low and not low_in)):
                continue
            if high is not None and (high < parsed or (parsed == high and not high_in)):
                continue
            return True
        return False

    def purl(self, name: str, version: str) -> str:
        """Return ``pkg:maven/<groupId>/<artifactId>@<version>``, the version as given."""
        group, artifact = self.validate_name(name).split(":")
        return PackageURL(
            type="maven", namespace=group, name=artifact, version=parse_version(version).text
        ).to_string()


_RANGE_PART = re.compile(r"([\[(])([^\[\]()]*)([\])])")


Interval: TypeAlias = tuple["MavenVersion | None", bool, "MavenVersion | None", bool]


def parse_range(text: str) -> list[Interval]:
    """Parse a Maven version range into intervals (low, low inclusive, high, high inclusive).

    ``[1.0,2.0)``, ``(,1.0]``, ``[1.2,)``, ``[1.5]`` and unions of them separated
    by commas (``(,1.0],[1.2,)``); a bare version ``1.0`` means exactly that version.
    """
    raw = text.strip()
    if not raw.startswith(("[", "(")):
        version = parse_version(raw)
        return [(version, True, version, True)]
    intervals: list[Interval] = []
    position = 0
    while position < len(raw):
        match = _RANGE_PART.match(raw, position)
        if match is None:
            raise ValueError(f"expected '[' or '(' at character {position + 1}")
        opening, body, closing = match.groups()
        bounds = [b.strip() for b in body.split(",")]
        if len(bounds) == 1:
            if opening != "[" or closing != "]" or not bounds[0]:
                raise ValueError("a single version must be written '[1.0]'")
            version = parse_version(bounds[0])
            intervals.append((version, True, version, True))
        elif len(bounds) == 2:
            low = parse_version(bounds[0]) if bounds[0] else None
            high = parse_version(bounds[1]) if bounds[1] else None
            if low is not None and high is not None and high < low:
                raise ValueError(f"the lower bound {bounds[0]} is above the upper {bounds[1]}")
            intervals.append((low, opening == "[", high, closing == "]"))
        else:
            raise ValueError("an interval has two bounds separated by one comma")
        position = match.end()
        if position < len(raw):
            if raw[position] != ",":
                raise ValueError(f"expected ',' between intervals at character {position + 1}")
            position += 1
    return intervals


def _render_interval(
    low: MavenVersion | None, low_in: bool, high: MavenVersion | None, high_in: bool
) -> str:
    if low is not None and high is not None and low == high and low_in and high_in:
        return f"[{low.text}]"
    return (
        f"{'[' if low_in else '('}{low.text if low else ''},"
        f"{high.text if high else ''}{']' if high_in else ')'}"
    )
