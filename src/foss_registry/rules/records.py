"""The approval rule as the services return it and the API shows it (one definition)."""

from __future__ import annotations

from msgspec import Struct


class ApprovalRule(Struct):
    """A range approval: live from its creation until ended or past ``expires_at``."""

    id: int
    ecosystem: str
    name: str
    range: str
    comment: str | None
    apply_to_existing: bool
    expires_at: str | None
    created_by: str
    created_at: str | None
    ended_by: str | None
    ended_at: str | None
    live: bool


class CreatedRule(ApprovalRule):
    """A new rule, with how many pending versions it approved (``apply_to_existing``)."""

    approved: int = 0
