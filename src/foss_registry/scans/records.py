"""A version's scans as the services return them and the API shows them (one definition)."""

from __future__ import annotations

from msgspec import Struct


class ScanSeverityCounts(Struct, frozen=True):
    """Findings per severity level."""

    critical: int
    high: int
    medium: int
    low: int
    unknown: int

    def items(self) -> list[tuple[str, int]]:
        """Each level and its count, most severe first (as a mapping's ``items()``)."""
        return [(level, getattr(self, level)) for level in self.__struct_fields__]


class ScanChanges(Struct, frozen=True):
    """What a scan found that the previous completed scan did not, and the reverse."""

    previous_status: str
    added: list[str]
    removed: list[str]
    changed: list[str]


class ScanHistoryEntry(Struct, frozen=True):
    """One scan of the version, oldest first; ``trigger`` says what asked for it."""

    status: str
    scan_date: str | None
    trigger: str
    reason: str | None
    severity: ScanSeverityCounts
    changes: ScanChanges | None
