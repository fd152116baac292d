"""Is this package version affected by this OSV record? The schema's evaluation, exactly.

A version is affected by an ``affected`` entry when it is in the entry's
explicit ``versions`` list (compared by the ecosystem's canonical form) or
inside one of its ``ECOSYSTEM``/``SEMVER`` ranges. A range is evaluated as the
OSV schema's ``IncludedInRanges`` pseudocode says: the version must be below
one of the ``limit`` events (if any), and walking the events *sorted by the
ecosystem's version order*, the last applicable event decides — ``introduced``
(at or below the version) makes it affected, ``fixed`` (at or below) or
``last_affected`` (strictly below) makes it unaffected. ``introduced: "0"``
sorts before every version and ``limit: "*"`` after every version. ``GIT``
ranges are ignored: they need the repository's commit graph.

Ordering always comes from the ecosystem module (PEP 440 for PyPI, semver for
npm, Maven's rules for Maven), for ``SEMVER`` ranges too.

Decisions where the schema is silent:

- a queried version the ecosystem cannot parse is not comparable: no range
  contains it, only an exact entry of the ``versions`` list can match it;
- an event whose version the ecosystem cannot parse is skipped (as if absent)
  and reported in :attr:`CompiledAffected.problems`. Skipping a ``fixed``,
  ``last_affected`` or ``limit`` bound widens the range, which errs towards
  flagging a version for review rather than silently passing it;
- events at equal versions keep the record's order (the sort is stable).
  Authors list events interval by interval, so this keeps what they meant:
  ``introduced X`` + ``last_affected X`` is exactly ``X``, and adjacent
  intervals ``[a, X)`` + ``[X, b)`` stay joined at ``X`` even when listed out
  of order (PYSEC-2022-236, pyspark 3.1.1, needs exactly this).

Matching is cheap once compiled: :func:`compile_record` sorts events and
computes every sort key once; :func:`prepare_version` computes the queried
version's key once for all candidate records.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from foss_registry import ecosystems
from foss_registry.ecosystems.base import Ecosystem
from foss_registry.errors import InvalidInputError
from foss_registry.vulns.osv import Affected, Range, Record, ecosystem_for

__all__ = [
    "EVALUATED_RANGE_TYPES",
    "CompiledAffected",
    "CompiledRange",
    "CompiledRecord",
    "PreparedVersion",
    "compile_affected",
    "compile_record",
    "is_affected",
    "matching_records",
    "prepare_version",
    "record_matches",
]

#: Range types evaluated with the ecosystem's version ordering; others (GIT) are ignored.
EVALUATED_RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER"})

# Event kinds.
_INTRODUCED = 0
_LAST_AFFECTED = 1
_FIXED = 2

# Exceptions an ecosystem may raise for a version it cannot parse or order.
_VERSION_ERRORS = (InvalidInputError, ValueError)


@dataclass(frozen=True, slots=True)
class PreparedVersion:
    """A queried version with its canonical form and sort key computed once.

    ``key`` is None when the ecosystem cannot parse the version (not comparable).
    """

    raw: str
    canonical: str
    key: Any


def prepare_version(ecosystem: Ecosystem | str, version: str) -> PreparedVersion:
    """Compute the canonical form and sort key of ``version`` once, for many records."""
    eco = _ecosystem(ecosystem)
    canonical = version
    key: Any = None
    with contextlib.suppress(*_VERSION_ERRORS):
        canonical = eco.canonical_version(version)
    with contextlib.suppress(*_VERSION_ERRORS):
        key = eco.sort_key(version)
    return PreparedVersion(version, canonical, key)


@dataclass(frozen=True, slots=True)
class CompiledRange:
    """An ECOSYSTEM/SEMVER range with its events sorted and their keys computed.

    ``events`` holds ``(kind, key)`` pairs in evaluation order; a None key is
    the ``introduced: "0"`` sentinel (before every version). ``limits`` is None
    when there is no finite limit (the implicit ``limit: "*"``).
    """

    events: tuple[tuple[int, Any], ...]
    limits: tuple[Any, ...] | None

    def contains(self, key: Any) -> bool:
        """Evaluate the range for a version's sort key (which must not be None)."""
        if self.limits is not None and not any(key < limit for limit in self.limits):
            return False
        vulnerable = False
        for kind, bound in self.events:
            if kind == _INTRODUCED:
                if bound is None or key >= bound:
                    vulnerable = True
            elif kind == _FIXED:
                if key >= bound:
                    vulnerable = False
            elif key > bound:  # last_affected
                vulnerable = False
        return vulnerable


@dataclass(frozen=True, slots=True)
class CompiledAffected:
    """One ``affected`` entry ready for matching in its ecosystem.

    ``ecosystem`` and ``name`` are None when the entry's ecosystem is not
    supported or its name is not valid there; such an entry never matches.
    """

    entry: Affected
    ecosystem: str | None
    name: str | None
    versions: frozenset[str]
    ranges: tuple[CompiledRange, ...]
    problems: tuple[str, ...]

    def contains(self, version: PreparedVersion) -> bool:
        """True when the prepared version is affected by this entry (versions list or ranges)."""
        if version.canonical in self.versions or version.raw in self.versions:
            return True
        if version.key is None:
            return False
        return any(r.contains(version.key) for r in self.ranges)


@dataclass(frozen=True, slots=True)
class CompiledRecord:
    """A record with all its entries compiled, for repeated matching."""

    record: Record
    entries: tuple[CompiledAffected, ...]

    @property
    def problems(self) -> tuple[str, ...]:
        """Everything in the record that could not be evaluated, for the importer's report."""
        return tuple(p for e in self.entries for p in e.problems)

    def matching_entries(
        self, ecosystem: Ecosystem | str, name: str, version: str | PreparedVersion
    ) -> list[Affected]:
        """The ``affected`` entries that make ``version`` of package ``name`` affected.

        ``name`` must be normalised (``ecosystem.normalize_name``). A withdrawn
        record matches nothing.
        """
        if self.record.is_withdrawn:
            return []
        eco = _ecosystem(ecosystem)
        prepared = version if isinstance(version, PreparedVersion) else None
        found: list[Affected] = []
        for compiled in self.entries:
            if compiled.ecosystem != eco.name or compiled.name != name:
                continue
            if prepared is None:
                prepared = prepare_version(eco, str(version))
            if compiled.contains(prepared):
                found.append(compiled.entry)
        return found


def _ecosystem(ecosystem: Ecosystem | str) -> Ecosystem:
    return ecosystems.get(ecosystem) if isinstance(ecosystem, str) else ecosystem


@functools.lru_cache(maxsize=1 << 16)
def _canonical(eco: Ecosystem, version: str) -> str | None:
    """A listed version's canonical form, None when it is not valid in the ecosystem.

    The records of one package list the same versions again and again (the PyPA
    advisories: 140,000 listed, 13,000 distinct), and parsing them was most of compiling.
    """
    try:
        return eco.canonical_version(version)
    except _VERSION_ERRORS:
        return None


def compile_affected(entry: Affected, ecosystem: Ecosystem | str | None = None) -> CompiledAffected:
    """Compile one entry: canonical versions, sorted events, sort keys.

    The ecosystem is the entry's own (``package.ecosystem``) unless given.
    """
    problems: list[str] = []
    eco: Ecosystem | None
    if ecosystem is not None:
        eco = _ecosystem(ecosystem)
    elif entry.package is not None:
        eco = ecosystem_for(entry.package.ecosystem)
    else:
        eco = None
    if eco is None:
        return CompiledAffected(entry, None, None, frozenset(), (), ())
    name: str | None = None
    if entry.package is not None:
        with contextlib.suppress(InvalidInputError):
            name = eco.normalize_name(entry.package.name)
    versions = set(entry.versions)
    versions.update(c for listed in entry.versions if (c := _canonical(eco, listed)) is not None)
    ranges = tuple(
        compiled
        for r in entry.ranges
        if r.type.upper() in EVALUATED_RANGE_TYPES
        and (compiled := _compile_range(r, eco, problems)) is not None
    )
    return CompiledAffected(entry, eco.name, name, frozenset(versions), ranges, tuple(problems))


def _compile_range(rng: Range, eco: Ecosystem, problems: list[str]) -> CompiledRange | None:
    events: list[tuple[int, Any]] = []  # (kind, key); key None is introduced "0"
    limits: list[Any] = []
    unlimited = False
    has_limit = False
    for event in rng.events:
        pairs = (
            (_INTRODUCED, event.introduced),
            (_FIXED, event.fixed),
            (_LAST_AFFECTED, event.last_affected),
        )
        for kind, value in pairs:
            if value is None:
                continue
            if kind == _INTRODUCED and value == "0":
                events.append((kind, None))
                continue
            key = _event_key(eco, value, problems)
            if key is not None:
                events.append((kind, key))
        if event.limit is not None:
            has_limit = True
            if "*" in event.limit:
                unlimited = True
            else:
                key = _event_key(eco, event.limit, problems)
                if key is not None:
                    limits.append(key)
    if not any(kind == _INTRODUCED for kind, _ in events):
        # Without an introduced event (or with only unparseable ones) nothing is ever affected.
        return None
    # The "0" sentinel sorts before every version; the rest by version, stably.
    ordered = [e for e in events if e[1] is None] + sorted(
        (e for e in events if e[1] is not None), key=itemgetter(1)
    )
    finite_limits = None if unlimited or not has_limit or not limits else tuple(limits)
    return CompiledRange(tuple(ordered), finite_limits)


def _event_key(eco: Ecosystem, value: str, problems: list[str]) -> Any:
    try:
        return eco.sort_key(value)
    except _VERSION_ERRORS:
        problems.append(f"event version {value!r} is not a valid {eco.name} version; skipped")
        return None


def compile_record(record: Record) -> CompiledRecord:
    """Compile every entry of a record once, for repeated matching."""
    return CompiledRecord(record, tuple(compile_affected(entry) for entry in record.affected))


def is_affected(entry: Affected, ecosystem: Ecosystem | str, version: str) -> bool:
    """True when ``version`` is affected by one ``affected`` entry, ranges and versions list.

    The entry's package is not checked (see :func:`record_matches` for that);
    ``ecosystem`` gives the version ordering.
    """
    compiled = compile_affected(entry, ecosystem)
    return compiled.contains(prepare_version(ecosystem, version))


def record_matches(
    record: Record | CompiledRecord,
    ecosystem: Ecosystem | str,
    normalised_name: str,
    version: str | PreparedVersion,
) -> list[Affected]:
    """The entries of ``record`` that make ``version`` of the package affected; [] if none.

    A withdrawn record never matches. Pass a :class:`CompiledRecord` (and a
    :class:`PreparedVersion`) to match repeatedly without recomputing keys.
    """
    compiled = record if isinstance(record, CompiledRecord) else compile_record(record)
    return compiled.matching_entries(ecosystem, normalised_name, version)


def matching_records(
    records: Iterable[Record | CompiledRecord],
    ecosystem: Ecosystem | str,
    normalised_name: str,
    version: str,
) -> list[tuple[Record, Sequence[Affected]]]:
    """Every record (with its matching entries) that affects ``version`` of the package."""
    eco = _ecosystem(ecosystem)
    prepared = prepare_version(eco, version)
    out: list[tuple[Record, Sequence[Affected]]] = []
    for record in records:
        compiled = record if isinstance(record, CompiledRecord) else compile_record(record)
        entries = compiled.matching_entries(eco, normalised_name, prepared)
        if entries:
            out.append((compiled.record, entries))
    return out
