"""Parked jobs as the queue returns them and ``GET /jobs/failed`` answers them (one definition)."""

from __future__ import annotations

from typing import Any

from msgspec import Struct


class FailedJob(Struct, frozen=True):
    """A job parked after its last attempt failed, with the error."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    last_error: str | None
    created_at: str
    finished_at: str | None


class FailedJobList(Struct, frozen=True):
    """A page of failed jobs, newest first."""

    jobs: list[FailedJob]
    limit: int
    offset: int
