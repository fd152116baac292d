"""The worker's part of triage: acting on expiries within a second or two of them."""

from __future__ import annotations

from sqlalchemy import Engine

from foss_registry.db import read_connection, write_transaction
from foss_registry.triage import service

#: How often the worker looks for lapsed triage decisions, at most (seconds).
EXPIRY_EVERY_SECONDS = 1.0


def expire_triage(engine: Engine) -> None:
    """Flag versions touched by triage decisions whose expiry has passed."""
    with read_connection(engine) as conn:
        if not service.lapses_due(conn):
            return
    with write_transaction(engine) as conn:
        service.handle_lapses(conn)
