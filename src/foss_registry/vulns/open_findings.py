"""Which findings of a scan are open: serious enough that deciding past them needs a word.

A finding is *open* when it is at ``high`` or above (or a malicious release)
and not under live triage. Approving a version with an open finding needs an
explicit acknowledgement, and the CI gate fails an approved version with an
open finding that was not acknowledged at approval (DESIGN.md, "Deciding with
open findings" and "The gate's default"). Pure: it reads the finding
dictionaries a scan stores (``Finding.to_dict``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from foss_registry.vulns.severity import HIGH, severity_rank

__all__ = ["ACKNOWLEDGE_LEVEL", "finding_ids", "is_open", "is_triaged", "open_findings"]

#: The lowest severity whose findings must be acknowledged to approve past them.
ACKNOWLEDGE_LEVEL = HIGH


def is_triaged(finding: Mapping[str, Any]) -> bool:
    """Whether the finding is under live triage (a ``triage`` decision shown on it).

    ``security.service.judged_scan`` marks a finding that a live triage decision
    covers with its ``triage`` (null otherwise).
    """
    return bool(finding.get("triage"))


def is_open(finding: Mapping[str, Any]) -> bool:
    """At ``high`` or above, or malicious, and not triaged."""
    serious = bool(finding.get("malicious")) or severity_rank(
        str(finding.get("severity") or "")
    ) >= severity_rank(ACKNOWLEDGE_LEVEL)
    return serious and not is_triaged(finding)


def open_findings(findings: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The open findings among a scan's, in the scan's order."""
    return [f for f in findings if is_open(f)]


def finding_ids(finding: Mapping[str, Any]) -> set[str]:
    """The finding's id and every alias: an acknowledgement of any of them covers it."""
    return {str(finding.get("id"))} | {str(a) for a in finding.get("aliases") or []}
