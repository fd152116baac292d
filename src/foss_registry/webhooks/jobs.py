"""The worker's part of webhooks: the outbox relay (periodic) and the ``webhook-deliver`` job."""

from __future__ import annotations

from sqlalchemy import Engine

from foss_registry.db import write_transaction
from foss_registry.jobs.worker import JobKind
from foss_registry.webhooks import delivery

#: The ``webhook-deliver`` job: send outside any transaction, then record the outcome.
DELIVER = JobKind(delivery.record, prepare=delivery.send)


#: How often the worker relays the outbox, at most (seconds).
RELAY_EVERY_SECONDS = 0.25


def relay_outbox(engine: Engine) -> None:
    """Hand the outbox's new events to deliveries (a read first, a write only when needed)."""
    while delivery.has_undispatched(engine):
        with write_transaction(engine) as conn:
            if delivery.relay(conn) < delivery.RELAY_EVENTS:
                return
