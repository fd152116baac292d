"""The gate's answer as ``checks.service.check`` returns it and ``POST /check`` answers it.

One definition (frozen msgspec Structs); the request body (``CheckRequest``)
is the edge's, in ``api/v1/check.py``. ``foss check`` reads the same shape
over HTTP, as JSON.
"""

from __future__ import annotations

from msgspec import Struct


class SeverityCounts(Struct, frozen=True):
    """Findings of the latest scan per severity level."""

    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    unknown: int = 0


class CheckFinding(Struct, frozen=True):
    """One finding of the version's latest scan, as the gate sees it."""

    id: str
    aliases: list[str]
    severity: str | None
    #: The version's approval acknowledged it (``acknowledge_findings``).
    acknowledged: bool
    #: A live triage decision covers it.
    triaged: bool


class CheckResult(Struct, frozen=True):
    """The registry's view of one dependency (``status`` is the registry status).

    ``verdict`` is the default gate's (``foss check`` without options): an
    approved version with a finding at high or above that was neither
    acknowledged nor triaged, or flagged ``new_vulnerability`` or ``malicious``,
    is ``vulnerable``; a null version is ``unpinned``.
    """

    name: str
    version: str | None
    ecosystem: str
    status: str
    nearest_approved: str | None
    scan_status: str | None
    worst_severity: str | None
    license: str | None
    license_status: str | None
    severity: SeverityCounts | None
    note: str | None
    flags: list[str]
    findings: list[CheckFinding]
    verdict: str


class CheckSummary(Struct, frozen=True):
    """How many dependencies have each registry status, and the default gate's result."""

    total: int
    approved: int
    pending: int
    rejected: int
    unknown: int
    #: Dependencies whose verdict fails the default gate.
    failing: int
    #: ``failed`` when one does, else ``passed``.
    result: str


class CheckResponse(Struct, frozen=True):
    """Answer of ``POST /check``: one result per dependency, in the request's order."""

    dependencies: list[CheckResult]
    summary: CheckSummary
