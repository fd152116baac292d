"""Which findings a triage covers, and what a scan says once triaged findings stop counting.

Pure functions over the scan's stored findings (dicts as ``GET
/security/scans`` shows them) and the triage decisions that apply to the
version; nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from foss_registry.vulns.severity import LEVELS, UNKNOWN, fails


@dataclass(frozen=True)
class Decision:
    """One live triage decision, as a finding shows it (``triage``)."""

    id: int
    advisory: str
    state: str
    justification: str | None
    comment: str | None
    expires_at: str | None
    by: str

    def shown(self) -> dict[str, Any]:
        """The finding's ``triage`` object."""
        return {
            "id": self.id,
            "state": self.state,
            "justification": self.justification,
            "comment": self.comment,
            "expires_at": self.expires_at,
            "by": self.by,
        }


def finding_ids(finding: dict[str, Any]) -> set[str]:
    """A finding's id and aliases, folded for comparison."""
    return {str(i).casefold() for i in [finding.get("id"), *(finding.get("aliases") or [])] if i}


def covering(finding: dict[str, Any], decisions: Iterable[Decision]) -> Decision | None:
    """The first decision naming the finding by its id or one of its aliases."""
    ids = finding_ids(finding)
    return next((d for d in decisions if d.advisory.casefold() in ids), None)


@dataclass(frozen=True)
class TriagedScan:
    """A scan's findings with their triage shown, and what still counts."""

    findings: list[dict[str, Any]]
    status: str
    reason: str | None
    severity: dict[str, int]
    #: Ids of findings that no longer count.
    triaged: list[str]


def severity_of(findings: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Count findings per level."""
    counts = dict.fromkeys(LEVELS, 0)
    for finding in findings:
        level = finding.get("severity")
        counts[level if level in counts else UNKNOWN] += 1
    return counts


def apply(
    findings: Sequence[dict[str, Any]],
    decisions: Sequence[Decision],
    *,
    status: str,
    reason: str | None,
    threshold: str,
) -> TriagedScan:
    """Annotate findings with their triage and decide the scan on the findings still counting.

    Only a ``passed`` or ``failed`` scan is decided again; ``not_scanned``,
    ``pending`` and ``error`` keep their status. Without decisions the scan is
    unchanged except that every finding shows ``"triage": null``.
    """
    shown: list[dict[str, Any]] = []
    counting: list[dict[str, Any]] = []
    triaged: list[str] = []
    for finding in findings:
        decision = covering(finding, decisions) if decisions else None
        shown.append({**finding, "triage": decision.shown() if decision else None})
        if decision is None:
            counting.append(finding)
        else:
            triaged.append(str(finding.get("id")))
    if not triaged or status not in ("passed", "failed"):
        return TriagedScan(shown, status, reason, severity_of(counting), triaged)
    failing = [
        f for f in counting if f.get("malicious") or fails(str(f.get("severity")), threshold)
    ]
    note = f"{len(triaged)} triaged finding(s) do not count ({', '.join(triaged[:10])})."
    if failing:
        listed = ", ".join(f"{f.get('id')} ({f.get('severity')})" for f in failing[:10])
        new_reason = (
            f"{len(failing)} finding(s) at or above {threshold!r} or of unknown severity: "
            f"{listed}. {note}"
        )
        return TriagedScan(shown, "failed", new_reason, severity_of(counting), triaged)
    return TriagedScan(shown, "passed", note, severity_of(counting), triaged)
