"""Typosquatting: is a name one small slip away from a well-known name that it is not?

A :class:`TyposquatIndex` holds the known names of one ecosystem (the popular
list and the approved catalogue) and answers, for a candidate name, which
known name it imitates and how: one edit (a letter added, dropped or
replaced), a swapped pair of neighbouring letters, a separator change (PEP 503
normalisation first for PyPI; ``@scope/name`` against ``scope-name`` for npm),
or confusable characters (Unicode look-alikes such as a Cyrillic ``ie`` for
a Latin ``e``, from the Unicode ``confusables.txt`` table as packaged by
``confusable-homoglyphs``).

Lookups use deletion neighbourhoods (every name with one character deleted
points back at the name), so one check costs a few dictionary reads whatever
the number of known names, not a loop of edit distances.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from packaging.utils import canonicalize_name

#: Names shorter than this are not checked for one edit or a swap (too many neighbours).
MIN_EDIT_LENGTH = 4
_SEPARATORS = re.compile(r"[-_.@/]+")
_ASCII = frozenset(string.ascii_lowercase + string.digits)


@cache
def _confusable_map() -> dict[str, str]:
    """Each non-ASCII character that looks like an ASCII letter or digit, mapped to it."""
    from confusable_homoglyphs import confusables

    mapping: dict[str, str] = {}
    for char, glyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        for glyph in glyphs:
            target = glyph["c"].lower()
            if len(target) == 1 and target in _ASCII:
                mapping[char] = target
                break
    # Digits written for the letters they look like.
    mapping.update({"0": "o", "1": "l"})
    return mapping


def skeleton(name: str) -> str:
    """The name with every look-alike character replaced by the letter it imitates."""
    mapping = _confusable_map()
    folded = unicodedata.normalize("NFKC", name).lower()
    return "".join(mapping.get(ch, ch) for ch in folded)


def fold_separators(name: str) -> str:
    """The name without separators or a leading scope sign (``@babel/core`` → ``babelcore``)."""
    return _SEPARATORS.sub("", name.lower())


def normalize(ecosystem: str, name: str) -> str:
    """The form names are compared in: PEP 503 for PyPI, lower case elsewhere."""
    if ecosystem == "pypi":
        return canonicalize_name(name)
    return name.strip().lower()


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by exactly one inserted, deleted or replaced character."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def swapped_pair(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with two neighbouring characters swapped."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


@dataclass(frozen=True)
class TyposquatMatch:
    """The known name a candidate imitates, how, and where the known name comes from."""

    name: str
    how: str
    source: str

    def message(self, candidate: str) -> str:
        """A sentence for a reviewer."""
        what = {
            "one_edit": "one letter away from",
            "swapped_pair": "the same as with two neighbouring letters swapped",
            "separator": "the same but for separators or scope as",
            "confusable": "written with look-alike characters to imitate",
        }[self.how]
        return (
            f"the name {candidate!r} is {what} the {self.source} name {self.name!r}; "
            "check that this is the package you mean"
        )


class TyposquatIndex:
    """Known names of one ecosystem, indexed for typosquatting checks (see the module)."""

    def __init__(self, ecosystem: str) -> None:
        self.ecosystem = ecosystem
        self._known: dict[str, tuple[str, str]] = {}  # normalised -> (shown name, source)
        self._deletes: dict[str, set[str]] = {}
        self._folded: dict[str, set[str]] = {}
        self._skeletons: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._known)

    def __contains__(self, name: str) -> bool:
        return normalize(self.ecosystem, name) in self._known

    def add(self, names: Iterable[str], source: str) -> TyposquatIndex:
        """Add names from one source (``popular``, ``approved``); a name's first source wins."""
        for shown in names:
            key = normalize(self.ecosystem, shown)
            if not key or key in self._known:
                continue
            self._known[key] = (shown, source)
            self._folded.setdefault(fold_separators(key), set()).add(key)
            self._skeletons.setdefault(skeleton(fold_separators(key)), set()).add(key)
            if len(key) >= MIN_EDIT_LENGTH:
                for deleted in _deletions(key):
                    self._deletes.setdefault(deleted, set()).add(key)
        return self

    def _match(self, key: str, how: str) -> TyposquatMatch:
        shown, source = self._known[key]
        return TyposquatMatch(shown, how, source)

    def check(self, name: str) -> TyposquatMatch | None:
        """The known name ``name`` imitates, or None (also None for a known name itself)."""
        key = normalize(self.ecosystem, name)
        if key in self._known:
            return None
        folded = fold_separators(key)
        for other in sorted(self._folded.get(folded, ())):
            return self._match(other, "separator")
        if not key.isascii() or any(ch in key for ch in "01"):
            for other in sorted(self._skeletons.get(skeleton(folded), ())):
                return self._match(other, "confusable")
        if len(key) + 1 < MIN_EDIT_LENGTH:
            return None
        candidates: set[str] = set(self._deletes.get(key, ()))  # one letter dropped
        for deleted in _deletions(key):
            if deleted in self._known:  # one letter added
                candidates.add(deleted)
            candidates |= self._deletes.get(deleted, set())  # replaced, or swapped
        for other in sorted(candidates, key=lambda k: (k != key, k)):
            if len(other) < MIN_EDIT_LENGTH:
                continue
            if swapped_pair(key, other):
                return self._match(other, "swapped_pair")
        for other in sorted(candidates):
            if len(other) >= MIN_EDIT_LENGTH and one_edit(key, other):
                return self._match(other, "one_edit")
        return None
