"""The popular package names shipped with the product, per ecosystem, and their refresh.

``data/popular-<ecosystem>.txt`` holds the most-downloaded names, most popular
first, one per line; lines starting with ``#`` say where the list comes from
and under which license (see the README's data section).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
#: Ecosystems with a shipped list.
ECOSYSTEMS = ("pypi", "npm")
#: How many names a list keeps.
LIMIT = 5000


def path(ecosystem: str) -> Path:
    """Where an ecosystem's list is."""
    return DATA / f"popular-{ecosystem}.txt"


def parse(lines: Iterable[str]) -> list[str]:
    """The names of a list: blank lines and ``#`` comments skipped, duplicates dropped."""
    names = (line.strip() for line in lines)
    return list(dict.fromkeys(n for n in names if n and not n.startswith("#")))


@cache
def popular_names(ecosystem: str) -> tuple[str, ...]:
    """The shipped popular names of an ecosystem, most popular first (empty if none ship)."""
    file = path(ecosystem)
    if not file.is_file():
        return ()
    return tuple(parse(file.read_text(encoding="utf-8").splitlines()))


def header(ecosystem: str) -> list[str]:
    """The comment lines of a shipped list (its source and license)."""
    file = path(ecosystem)
    if not file.is_file():
        return []
    lines = file.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.startswith("#")]


def write(ecosystem: str, names: Iterable[str], comments: list[str], target: Path) -> int:
    """Write a list (at most :data:`LIMIT` names after its comments); return the count."""
    kept = parse(names)[:LIMIT]
    text = "\n".join([*comments, *kept]) + "\n"
    target.write_text(text, encoding="utf-8")
    popular_names.cache_clear()
    return len(kept)
