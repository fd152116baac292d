"""Blocked index requests as ``index.gate.list_blocked`` returns them (one definition).

``GET /index/blocked`` answers them.
"""

from __future__ import annotations

from msgspec import Struct


class BlockedRequest(Struct, frozen=True):
    """One index request for a file of a version that is not approved."""

    ecosystem: str
    name: str
    version: str
    file: str
    #: The version's status then: pending, rejected or ``not submitted``.
    status: str
    #: ``enforce`` (refused) or ``audit`` (served and recorded).
    mode: str
    at: str
    client: str


class BlockedList(Struct, frozen=True):
    """A page of blocked index requests, newest first."""

    blocked: list[BlockedRequest]
    total: int
    limit: int
    offset: int
