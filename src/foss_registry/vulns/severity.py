"""Severity levels of advisories: from CVSS vectors, database ratings, or malware flags.

A finding's severity is a level string, ordered ``low < medium < high <
critical``; ``unknown`` means no usable rating was found. Scan thresholds treat
``unknown`` as failing at any threshold (most PyPA records carry no severity,
and silence is not evidence of safety). Malicious-package records are always
``critical``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from foss_registry.vulns.osv import Affected, Record, Severity

__all__ = [
    "CRITICAL",
    "HIGH",
    "LEVELS",
    "LOW",
    "MEDIUM",
    "UNKNOWN",
    "Cvss",
    "SeverityInfo",
    "best_cvss",
    "fails",
    "is_malicious",
    "level_from_score",
    "normalize_level",
    "parse_cvss",
    "record_severity",
    "severity_rank",
    "worst_level",
]

LOW = "low"
MEDIUM = "medium"
HIGH = "high"
CRITICAL = "critical"
UNKNOWN = "unknown"

#: Every level, worst first, the order used for counts and listings.
LEVELS: tuple[str, ...] = (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN)

# Known levels only; unknown has no rank because it is not comparable to them.
_RANK = {LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4}

# Words databases and scanners use for their ratings, mapped onto our four levels.
_WORDS = {
    "none": LOW,
    "negligible": LOW,
    "info": LOW,
    "informational": LOW,
    "low": LOW,
    "minor": LOW,
    "moderate": MEDIUM,
    "medium": MEDIUM,
    "important": HIGH,
    "high": HIGH,
    "critical": CRITICAL,
}


@dataclass(frozen=True, slots=True)
class Cvss:
    """A CVSS rating: its version (``"3.1"``), the vector as given, and the base score."""

    version: str
    vector: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        """Return the API shape ``{"version", "vector", "score"}``."""
        return {"version": self.version, "vector": self.vector, "score": self.score}


@dataclass(frozen=True, slots=True)
class SeverityInfo:
    """The severity of one record: level, the CVSS it came from (if any), malware flag."""

    level: str
    cvss: Cvss | None = None
    malicious: bool = False


def level_from_score(score: float) -> str:
    """Map a CVSS base score to a level with the CVSS v3 bands.

    The same bands are used for v2 and v4 scores so that one number means one
    level everywhere. A score of 0.0 ("none" in CVSS) maps to ``low``: the
    advisory still matched, and ``low`` is the least alarming known level.
    """
    if math.isnan(score) or score < 4.0:
        return LOW
    if score < 7.0:
        return MEDIUM
    if score < 9.0:
        return HIGH
    return CRITICAL


def normalize_level(text: str | None) -> str:
    """Map a rating word (``MODERATE``, ``Negligible``...) to a level, else ``unknown``."""
    if not text:
        return UNKNOWN
    return _WORDS.get(text.strip().lower(), UNKNOWN)


def parse_cvss(vector: str, kind: str | None = None) -> Cvss | None:
    """Score a CVSS v2, v3.x or v4 vector; None when the vector is not valid.

    The version is read from the vector's ``CVSS:x.y/`` prefix; a vector
    without a prefix is tried as CVSS v2 (its format has none). ``kind`` (an
    OSV severity type such as ``CVSS_V3``) only rejects vectors of other kinds.
    """
    text = (vector or "").strip()
    if not text:
        return None
    try:
        if text.startswith("CVSS:4."):
            if kind not in (None, "CVSS_V4"):
                return None
            v4 = CVSS4(text)
            return Cvss("4.0", text, _score(v4.base_score))
        if text.startswith("CVSS:3."):
            if kind not in (None, "CVSS_V3"):
                return None
            v3 = CVSS3(text)
            return Cvss(text[5:8], text, _score(v3.base_score))
        if kind not in (None, "CVSS_V2") or text.startswith("CVSS:"):
            return None
        v2 = CVSS2(text.strip("()"))
        return Cvss("2.0", text, _score(v2.base_score))
    except (CVSSError, ValueError, KeyError, IndexError, TypeError, ArithmeticError):
        # The cvss library raises several types on malformed input; a bad vector
        # is ignored so that the next rating (or the database's word) can be used.
        return None


def _score(value: Any) -> float:
    return round(float(value), 1)


def best_cvss(severities: Iterable[Severity]) -> Cvss | None:
    """Pick the rating to show from a ``severity`` list: the newest CVSS version that parses.

    Newer versions describe the same vulnerability with a better model; among
    equal versions, the higher score wins.
    """
    best: Cvss | None = None
    for item in severities:
        if not item.type.upper().startswith("CVSS"):
            continue
        parsed = parse_cvss(item.score, item.type.upper())
        if parsed is None:
            continue
        if best is None or (_version_key(parsed), parsed.score) > (
            _version_key(best),
            best.score,
        ):
            best = parsed
    return best


def _version_key(cvss: Cvss) -> tuple[int, ...]:
    return tuple(int(p) for p in cvss.version.split(".") if p.isdigit())


def is_malicious(record: Record) -> bool:
    """True for malicious-package records: ``MAL-`` ids or OpenSSF malicious-packages provenance."""
    if record.id.upper().startswith("MAL-"):
        return True
    db = record.database_specific
    return db is not None and "malicious-packages-origins" in db


def record_severity(record: Record, affected: Sequence[Affected] | None = None) -> SeverityInfo:
    """Work out a record's severity.

    In order: a malicious record is ``critical``; else the record's CVSS
    vectors (or, if the record has none, those of the ``affected`` entries
    given, or of all its entries — the schema puts per-package ratings there);
    else ``database_specific.severity`` (GHSA's LOW/MODERATE/HIGH/CRITICAL); else
    an ``Ubuntu`` priority; else ``unknown``.
    """
    entries = record.affected if affected is None else affected
    severities: tuple[Severity, ...] = record.severity or tuple(
        s for entry in entries for s in entry.severity
    )
    cvss = best_cvss(severities)
    if is_malicious(record):
        return SeverityInfo(CRITICAL, cvss, malicious=True)
    if cvss is not None:
        return SeverityInfo(level_from_score(cvss.score), cvss)
    level = _database_level(record.database_specific)
    if level == UNKNOWN:
        for entry in entries:
            level = worst_level([level, _database_level(entry.database_specific)])
    if level == UNKNOWN:
        level = worst_level(normalize_level(s.score) for s in severities if s.type == "Ubuntu")
    return SeverityInfo(level)


def _database_level(db: dict[str, Any] | None) -> str:
    if not db:
        return UNKNOWN
    value = db.get("severity")
    return normalize_level(value) if isinstance(value, str) else UNKNOWN


def severity_rank(level: str) -> int:
    """Rank of a known level (low=1 ... critical=4); ``unknown`` and others rank 0."""
    return _RANK.get(level, 0)


def worst_level(levels: Iterable[str]) -> str:
    """The highest known level among ``levels``; ``unknown`` only when none is known."""
    worst = UNKNOWN
    for level in levels:
        if severity_rank(level) > severity_rank(worst):
            worst = level
    return worst


def fails(level: str, threshold: str) -> bool:
    """True when a finding of ``level`` fails a scan whose threshold is ``threshold``.

    A finding fails when its level is at or above the threshold; a finding of
    ``unknown`` severity fails at any threshold. Raises ValueError for a
    threshold that is not one of low, medium, high, critical.
    """
    if threshold not in _RANK:
        raise ValueError(f"Unknown severity threshold {threshold!r}; use one of {sorted(_RANK)}.")
    if level not in _RANK:
        return True
    return _RANK[level] >= _RANK[threshold]
