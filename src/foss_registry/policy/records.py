"""The policy in force as the policy service returns it and ``/policy`` answers it."""

from __future__ import annotations

from msgspec import Struct


class PolicyInForce(Struct, frozen=True):
    """The license policy in force and where it comes from (``api``, ``file:...``, ``default``)."""

    auto_approve: bool
    categories: dict[str, str]
    licenses: dict[str, str]
    signals: dict[str, str | float]
    source: str
    updated_at: str | None
    updated_by: str | None
