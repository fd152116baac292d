"""What a request to enrich again queued, as the enrichment service returns it."""

from __future__ import annotations

from msgspec import Struct


class EnrichResult(Struct, frozen=True):
    """Answer of ``POST /enrich``: the versions whose enrichment was queued."""

    ecosystem: str
    name: str
    queued: list[str]
