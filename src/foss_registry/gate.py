"""The CI gate's contract and verdicts, as pure functions and constants.

Shared by the client (``foss check``) and the server (``POST /check``), so it
lives beside neither: it imports nothing of the server side.

A dependency's verdict is its registry status, refined by what the client
knows: ``unpinned`` when the file gives no version; ``vulnerable`` for an
approved version with an open finding (at ``high`` or above, neither
acknowledged at approval nor triaged) or the flag ``new_vulnerability`` or
``malicious`` (DESIGN.md "The gate's default"), and for any version when a
scan finding reaches ``--fail-on-severity``. Failing verdicts make the exit
code 1: ``rejected``, ``unknown``, ``unpinned`` and ``vulnerable`` always,
``pending`` unless ``--allow-pending``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Most dependencies one ``POST /check`` takes (DESIGN "The gate's JSON").
MAX_CHECK_DEPENDENCIES = 5_000
#: Largest ``POST /check`` body, in bytes.
MAX_CHECK_BODY_BYTES = 4 * 1024 * 1024
#: The registry statuses a check answers, ``unknown`` meaning never submitted.
REGISTRY_STATUSES = ("approved", "pending", "rejected", "unknown")

#: Verdicts in the order the report groups them: the ones to act on first.
VERDICTS = ("rejected", "unknown", "unpinned", "vulnerable", "pending", "approved")
#: Levels ``--fail-on-severity`` accepts.
SEVERITY_THRESHOLDS = ("low", "medium", "high", "critical")
#: Flags that fail an approved version whatever was acknowledged.
BLOCKING_FLAGS = ("new_vulnerability", "malicious")
#: Severities of a finding that fails an approved version unless acknowledged or triaged.
BLOCKING_SEVERITIES = ("critical", "high")


@dataclass(frozen=True)
class GateOptions:
    """How strict the gate is."""

    allow_pending: bool = False
    #: Fail a dependency with a finding at or above this level; None: severity alone never fails.
    fail_on_severity: str | None = None


def reaches_severity(counts: Mapping[str, int] | None, threshold: str) -> bool:
    """Return whether any finding in the severity counts fails at ``threshold``.

    A finding of unknown severity fails at any threshold (DESIGN "Scans").
    """
    # Imported here: the client loads this module, and the vulnerability modules
    # are only needed with --fail-on-severity.
    from foss_registry.vulns.severity import fails

    return any(n > 0 and fails(level, threshold) for level, n in (counts or {}).items())


def unacknowledged(dependency: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The findings at ``high`` or above that were neither acknowledged nor triaged."""
    return [
        f
        for f in dependency.get("findings") or []
        if f.get("severity") in BLOCKING_SEVERITIES
        and not f.get("acknowledged")
        and not f.get("triaged")
    ]


def blocking_flags(dependency: Mapping[str, Any]) -> list[str]:
    """The version's flags that fail it even when approved."""
    return [f for f in dependency.get("flags") or [] if f in BLOCKING_FLAGS]


def verdict(dependency: Mapping[str, Any], *, pinned: bool, options: GateOptions) -> str:
    """Return one of :data:`VERDICTS` for a ``/check`` answer about a dependency."""
    if not pinned:
        return "unpinned"
    status = str(dependency.get("status"))
    if status in ("rejected", "unknown"):
        return status
    if options.fail_on_severity is not None and reaches_severity(
        dependency.get("severity"), options.fail_on_severity
    ):
        return "vulnerable"
    if status == "approved" and (unacknowledged(dependency) or blocking_flags(dependency)):
        return "vulnerable"
    return "pending" if status == "pending" else "approved"


def is_failure(verdict_name: str, options: GateOptions) -> bool:
    """Return whether a verdict fails the gate under these options."""
    if verdict_name == "approved":
        return False
    return not (verdict_name == "pending" and options.allow_pending)


def tally(verdicts: Iterable[str], options: GateOptions) -> dict[str, Any]:
    """Summarise verdicts: a count per verdict, ``total``, ``failing`` and ``result``."""
    counts = dict.fromkeys(VERDICTS, 0)
    failing = 0
    for name in verdicts:
        counts[name] += 1
        failing += is_failure(name, options)
    total = sum(counts.values())
    return {
        "total": total,
        **counts,
        "failing": failing,
        "result": "failed" if failing else "passed",
    }


def summary_line(summary: Mapping[str, Any]) -> str:
    """Return the one-line summary a person reads at the end of the report."""
    total = summary["total"]
    noun = "dependency" if total == 1 else "dependencies"
    parts = [f"{summary[v]} {v}" for v in reversed(VERDICTS) if summary.get(v)]
    counted = ", ".join(parts) if parts else "nothing to check"
    if summary["failing"]:
        return f"{total} {noun}: {counted}. Check failed: {summary['failing']} not allowed."
    return f"{total} {noun}: {counted}. Check passed."
