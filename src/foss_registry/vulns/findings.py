"""Findings: what a scan reports for one package version, one per vulnerability.

A :class:`Finding` is built from a matching OSV record (:func:`finding_from_record`)
or from an external scanner's output (``vulns.scanners``). Databases describe
one vulnerability under several ids (PYSEC, GHSA, CVE, MAL ...), so
:func:`merge_by_alias` folds findings that share an id or alias into one, as
the design asks: its ``id`` is the first of PYSEC/GHSA/CVE order, every other
id of the group goes into ``aliases``, the severity is the highest known one
and ``fixed_versions`` is the union.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from foss_registry.ecosystems.base import Ecosystem
from foss_registry.errors import InvalidInputError
from foss_registry.vulns.matcher import EVALUATED_RANGE_TYPES, matching_records
from foss_registry.vulns.osv import Affected, Record
from foss_registry.vulns.severity import (
    LEVELS,
    UNKNOWN,
    Cvss,
    record_severity,
    severity_rank,
    worst_level,
)

__all__ = [
    "ID_PREFERENCE",
    "Finding",
    "finding_from_record",
    "findings_for_version",
    "merge_by_alias",
    "severity_counts",
    "summary_of",
    "version_sorter",
    "worst_severity",
]

#: Id prefixes in the order the representative id of an alias group is chosen; others follow.
ID_PREFERENCE: tuple[str, ...] = ("PYSEC", "GHSA", "CVE")

_SUMMARY_LIMIT = 160

VersionSorter = Callable[[Iterable[str]], Sequence[str]]


@dataclass(frozen=True, slots=True)
class Finding:
    """One vulnerability (or malicious release) found in one package version.

    ``package``/``package_version`` name what the finding applies to when a
    scan covers several packages (an image); they are None for a scan of one
    registry package, where the caller knows it.
    """

    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    severity: str = UNKNOWN
    cvss: Cvss | None = None
    fixed_versions: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    malicious: bool = False
    package: str | None = None
    package_version: str | None = None

    @property
    def all_ids(self) -> tuple[str, ...]:
        """The finding's id followed by its aliases."""
        return (self.id, *self.aliases)

    def to_dict(self) -> dict[str, Any]:
        """The API shape of one vulnerability of a scan (lists, ``cvss`` as a dict or None)."""
        out: dict[str, Any] = {
            "id": self.id,
            "aliases": list(self.aliases),
            "summary": self.summary,
            "severity": self.severity,
            "cvss": self.cvss.as_dict() if self.cvss else None,
            "fixed_versions": list(self.fixed_versions),
            "references": list(self.references),
            "malicious": self.malicious,
        }
        if self.package is not None:
            out["package"] = self.package
            out["package_version"] = self.package_version
        return out


def version_sorter(ecosystem: Ecosystem) -> VersionSorter:
    """Return a function that de-duplicates and sorts versions by the ecosystem's order.

    Versions the ecosystem cannot parse keep their order after the others,
    so a bad string in a record never breaks a scan.
    """

    def sort(versions: Iterable[str]) -> tuple[str, ...]:
        keyed: list[tuple[Any, str]] = []
        rest: list[str] = []
        for version in dict.fromkeys(versions):
            try:
                keyed.append((ecosystem.sort_key(version), version))
            except (InvalidInputError, ValueError):
                rest.append(version)
        keyed.sort(key=itemgetter(0))
        return tuple(v for _, v in keyed) + tuple(rest)

    return sort


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def summary_of(record: Record) -> str:
    """The record's summary; PYSEC records have none, so the first sentence of ``details``."""
    if record.summary.strip():
        return _clip(record.summary.strip())
    for line in record.details.splitlines():
        text = line.strip().lstrip("#").strip()
        if text and not set(text) <= set("-_=*"):
            sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
            return _clip(sentence)
    return ""


def _clip(text: str) -> str:
    return text if len(text) <= _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 1].rstrip() + "…"


def finding_from_record(
    record: Record,
    affected_entries: Sequence[Affected],
    ecosystem: Ecosystem | None = None,
) -> Finding:
    """Build the finding for a record whose ``affected_entries`` matched the scanned version.

    ``fixed_versions`` are the ``fixed`` events of those entries' ECOSYSTEM and
    SEMVER ranges (GIT ``fixed`` values are commits), sorted by ``ecosystem``'s
    order when given.
    """
    info = record_severity(record, affected_entries)
    fixed = [
        event.fixed
        for entry in affected_entries
        for rng in entry.ranges
        if rng.type.upper() in EVALUATED_RANGE_TYPES
        for event in rng.events
        if event.fixed
    ]
    fixed_versions = version_sorter(ecosystem)(fixed) if ecosystem is not None else _dedupe(fixed)
    return Finding(
        id=record.id,
        aliases=tuple(sorted(set(record.aliases) - {record.id})),
        summary=summary_of(record),
        severity=info.level,
        cvss=info.cvss,
        fixed_versions=tuple(fixed_versions),
        references=_dedupe(ref.url for ref in record.references),
        malicious=info.malicious,
    )


def _id_rank(identifier: str) -> int:
    prefix = identifier.split("-", 1)[0].upper()
    try:
        return ID_PREFERENCE.index(prefix)
    except ValueError:
        return len(ID_PREFERENCE)


class _UnionFind:
    """Union-find over id strings (path halving), to group ids linked through aliases."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        parent = self.parent.setdefault(item, item)
        while parent != item:
            grand = self.parent[parent]
            self.parent[item] = grand
            item, parent = parent, grand
        return item

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def merge_by_alias(
    findings: Iterable[Finding], *, sort_versions: VersionSorter | None = None
) -> list[Finding]:
    """Fold findings that share an id or alias (transitively) into one finding per group.

    Only findings about the same ``package``/``package_version`` are merged.
    The group's ``id`` is its first id in PYSEC, GHSA, CVE order (then any
    other prefix, alphabetically; a finding's own id beats an id only seen as an
    alias); ``aliases`` are all other ids of the group, sorted. The severity is
    the highest known level; ``cvss`` comes from a finding at that level when one
    has it (else the highest-scored one); ``fixed_versions`` and ``references``
    are unions; ``malicious`` if any finding is. Result order: worst severity
    first, then id.
    """
    by_package: dict[tuple[str | None, str | None], list[Finding]] = {}
    for finding in findings:
        by_package.setdefault((finding.package, finding.package_version), []).append(finding)
    merged: list[Finding] = []
    for group in by_package.values():
        uf = _UnionFind()
        for finding in group:
            uf.find(finding.id)
            for alias in finding.aliases:
                uf.union(finding.id, alias)
        components: dict[str, list[Finding]] = {}
        for finding in group:
            components.setdefault(uf.find(finding.id), []).append(finding)
        merged.extend(_merge_component(c, sort_versions) for c in components.values())
    merged.sort(
        key=lambda f: (-severity_rank(f.severity), f.id, f.package or "", f.package_version or "")
    )
    return merged


def _merge_component(group: list[Finding], sort_versions: VersionSorter | None) -> Finding:
    own_ids = {f.id for f in group}
    all_ids = {i for f in group for i in f.all_ids}
    primary = min(all_ids, key=lambda i: (_id_rank(i), i not in own_ids, i))
    ordered = sorted(group, key=lambda f: (_id_rank(f.id), f.id != primary, f.id))
    level = worst_level(f.severity for f in group)
    at_level = [f.cvss for f in ordered if f.cvss is not None and f.severity == level]
    any_cvss = sorted((f.cvss for f in ordered if f.cvss is not None), key=lambda c: -c.score)
    cvss = at_level[0] if at_level else (any_cvss[0] if any_cvss else None)
    fixed = [v for f in ordered for v in f.fixed_versions]
    return Finding(
        id=primary,
        aliases=tuple(sorted(all_ids - {primary})),
        summary=next((f.summary for f in ordered if f.summary), ""),
        severity=level,
        cvss=cvss,
        fixed_versions=tuple(sort_versions(fixed)) if sort_versions else _dedupe(fixed),
        references=_dedupe(r for f in ordered for r in f.references),
        malicious=any(f.malicious for f in group),
        package=group[0].package,
        package_version=group[0].package_version,
    )


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Count findings per level: ``{"critical", "high", "medium", "low", "unknown"}``."""
    counts = dict.fromkeys(LEVELS, 0)
    for finding in findings:
        counts[finding.severity if finding.severity in counts else UNKNOWN] += 1
    return counts


def worst_severity(findings: Iterable[Finding]) -> str | None:
    """The highest level among findings: a known level, ``unknown``, or None when there are none."""
    levels = [f.severity for f in findings]
    return worst_level(levels) if levels else None


def findings_for_version(
    records: Iterable[Record],
    ecosystem: Ecosystem,
    name: str,
    version: str,
) -> list[Finding]:
    """Match one package version against candidate records and return merged findings.

    ``records`` are the candidates (typically those indexed under the
    package); ``name`` may be any spelling, it is normalised here. Withdrawn
    records never match.
    """
    normalised = ecosystem.normalize_name(name)
    raw = [
        finding_from_record(record, entries, ecosystem)
        for record, entries in matching_records(records, ecosystem, normalised, version)
    ]
    return merge_by_alias(raw, sort_versions=version_sorter(ecosystem))
