"""The triage decision as the services return it and the API shows it (one definition)."""

from __future__ import annotations

from msgspec import Struct


class TriageDecision(Struct):
    """A decision about one advisory for a package and a range (or every version)."""

    id: int
    advisory: str
    ecosystem: str
    name: str
    range: str | None
    state: str
    justification: str | None
    comment: str | None
    expires_at: str | None
    created_by: str
    created_at: str | None
    ended_by: str | None
    ended_at: str | None
    live: bool
