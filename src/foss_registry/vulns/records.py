"""What the vulnerability database holds, as ``vulns.service.status`` returns it (one definition).

``GET /vulndb/status`` answers it and ``foss vulndb status`` prints it.
"""

from __future__ import annotations

from msgspec import Struct


class SourceCount(Struct, frozen=True):
    """Records of one source (PYSEC, GHSA, MAL...) in one ecosystem."""

    records: int
    withdrawn: int


class EcosystemData(Struct, frozen=True):
    """The vulnerability data of one ecosystem: counts and freshness."""

    ecosystem: str
    records: int
    sources: dict[str, SourceCount]
    newest_modified: str | None
    last_imported_at: str | None
    age_days: float | None
    stale: bool | None


class VulnDbStatus(Struct, frozen=True):
    """Answer of ``GET /vulndb/status`` (admin): what the vulnerability database holds."""

    records: int
    withdrawn: int
    newest_modified: str | None
    age_days: float | None
    stale: bool | None
    last_imported_at: str | None
    ecosystems: list[EcosystemData]
