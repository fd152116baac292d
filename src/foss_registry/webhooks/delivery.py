"""From the outbox to the receivers: the relay, and the delivery jobs with their retries.

The relay (run by the job worker a few times a second) turns undispatched
events into one delivery per subscribed webhook and queues them as
``webhook-deliver`` jobs of up to :data:`BATCH` deliveries, claimed before
other jobs due (a retry does not wait behind a backlog of scans). A job sends its
deliveries concurrently outside any transaction (the job's preparer), then
records every attempt: a 2xx answer delivers; anything else (another status,
a timeout, a refused connection) is retried with exponential backoff and
jitter, from about 2 s, up to ``FOSS_WEBHOOKS_MAX_ATTEMPTS``. Every attempt of a
delivery sends the same ``webhook-id`` and body, with a fresh timestamp and
signature. Before each attempt the host is resolved again and refused when it
points at a private address (unless ``FOSS_WEBHOOKS_ALLOW_PRIVATE``), and the
attempt connects to the address checked, not to a second resolution.
Redirects are not followed; at most :data:`MAX_RESPONSE_BYTES` of an answer
are read.
"""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, bindparam, select, update

from foss_registry.config import get_settings
from foss_registry.db import read_connection, utcnow
from foss_registry.jobs import queue
from foss_registry.webhooks import signing
from foss_registry.webhooks.addresses import RefusedAddress, check_url, pinned_request
from foss_registry.webhooks.models import (
    webhook_attempts,
    webhook_deliveries,
    webhook_events,
    webhooks,
)

log = logging.getLogger("foss_registry.webhooks")

DELIVER_JOB = "webhook-deliver"
#: Deliveries per job, sent concurrently.
BATCH = 20
#: Events the relay takes per transaction.
RELAY_EVENTS = 500
#: Bytes of a receiver's answer kept (and read at most).
MAX_RESPONSE_BYTES = 1024
#: First retry after about this many seconds; doubling, capped at an hour.
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 3600.0

_PENDING_EVENT = (
    select(webhook_events.c.id).where(webhook_events.c.dispatched_at.is_(None)).limit(1)
)


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Delay before the next attempt after ``attempts`` failed ones: 2 s doubling, ±25 % jitter."""
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
    return base * (rng or random).uniform(0.75, 1.25)


def has_undispatched(engine: Engine) -> bool:
    """Whether the outbox holds events the relay has not handled (a cheap read)."""
    with read_connection(engine) as conn:
        return conn.execute(_PENDING_EVENT).first() is not None


def relay(conn: Connection) -> int:
    """Turn undispatched events into deliveries and queue their jobs; return events handled."""
    events = conn.execute(
        select(webhook_events.c.id, webhook_events.c.type)
        .where(webhook_events.c.dispatched_at.is_(None))
        .order_by(webhook_events.c.id)
        .limit(RELAY_EVENTS)
    ).all()
    if not events:
        return 0
    hooks = conn.execute(
        select(webhooks.c.id, webhooks.c.events).where(webhooks.c.deleted_at.is_(None))
    ).all()
    now = utcnow()
    rows = [
        {
            "webhook_id": hook.id,
            "event_id": event.id,
            "message_id": signing.new_message_id(),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event in events
        for hook in hooks
        if event.type in hook.events
    ]
    ids: list[int] = []
    if rows:
        ids = list(
            conn.execute(
                webhook_deliveries.insert().returning(
                    webhook_deliveries.c.id, sort_by_parameter_order=True
                ),
                rows,
            ).scalars()
        )
    conn.execute(
        update(webhook_events)
        .where(webhook_events.c.id.in_([e.id for e in events]))
        .values(dispatched_at=now)
    )
    for start in range(0, len(ids), BATCH):
        queue.enqueue(
            conn,
            DELIVER_JOB,
            {"delivery_ids": ids[start : start + BATCH]},
            max_attempts=3,
            priority=queue.PROMPT,
        )
    return len(events)


_DELIVERY_ROWS = (
    select(
        webhook_deliveries.c.id,
        webhook_deliveries.c.message_id,
        webhook_deliveries.c.status,
        webhooks.c.url,
        webhooks.c.secret,
        webhooks.c.deleted_at,
        webhook_events.c.body,
    )
    .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
    .join(webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id)
    .where(webhook_deliveries.c.id.in_(bindparam("ids", expanding=True)))
)


def attempt(
    client: httpx.Client, url: str, secret: str, message_id: str, body: str, allow_private: bool
) -> dict[str, Any]:
    """Send one signed delivery and return what happened (status, error, duration, answer)."""
    started = time.perf_counter()
    outcome: dict[str, Any] = {"status_code": None, "error": None, "response_body": None}
    try:
        target = url
        extra_headers: dict[str, str] = {}
        extensions: dict[str, Any] = {}
        if not allow_private:
            target, extra_headers, extensions = pinned_request(url, check_url(url))
        payload = body.encode()
        headers = signing.headers(secret, message_id, int(time.time()), payload)
        with client.stream(
            "POST",
            target,
            content=payload,
            headers=extra_headers | headers,
            extensions=extensions,
        ) as response:
            outcome["status_code"] = response.status_code
            kept = b""
            for chunk in response.iter_bytes():
                kept += chunk
                if len(kept) >= MAX_RESPONSE_BYTES:
                    break
            outcome["response_body"] = kept[:MAX_RESPONSE_BYTES].decode("utf-8", "replace")
    except RefusedAddress as exc:
        outcome["error"] = f"refused: {exc}"
        outcome["refused"] = True
    except httpx.TimeoutException:
        outcome["error"] = "timeout"
    except httpx.HTTPError as exc:
        outcome["error"] = f"{type(exc).__name__}: {exc}"[:500]
    outcome["duration_ms"] = round((time.perf_counter() - started) * 1000)
    outcome["attempted_at"] = utcnow().isoformat()
    return outcome


def send(engine: Engine, payload: dict[str, Any]) -> dict[str, Any]:
    """The delivery job's preparer: send its pending deliveries, outside any transaction."""
    settings = get_settings()
    with read_connection(engine) as conn:
        rows = conn.execute(_DELIVERY_ROWS, {"ids": list(payload["delivery_ids"])}).all()
    todo = [r for r in rows if r.status == "pending" and r.deleted_at is None]
    if not todo:
        return {"results": {}}
    timeout = httpx.Timeout(settings.webhooks_timeout_seconds)
    with (
        httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
        ThreadPoolExecutor(max_workers=min(8, len(todo))) as pool,
    ):
        futures = {
            r.id: pool.submit(
                attempt,
                client,
                r.url,
                r.secret,
                r.message_id,
                r.body,
                settings.webhooks_allow_private,
            )
            for r in todo
        }
        return {"results": {str(i): f.result() for i, f in futures.items()}}


def record(conn: Connection, payload: dict[str, Any]) -> None:
    """The delivery job's handler: record each attempt, finish or schedule the retry."""
    results: dict[str, dict[str, Any]] = payload.get("results") or {}
    if not results:
        return
    max_attempts = get_settings().webhooks_max_attempts
    now = utcnow()
    current = {
        r.id: r
        for r in conn.execute(
            select(
                webhook_deliveries.c.id, webhook_deliveries.c.attempts, webhook_deliveries.c.status
            ).where(webhook_deliveries.c.id.in_([int(i) for i in results]))
        )
    }
    retries: dict[int, list[int]] = {}
    for key, outcome in results.items():
        delivery_id = int(key)
        row = current.get(delivery_id)
        if row is None or row.status != "pending":
            continue
        conn.execute(
            webhook_attempts.insert().values(
                delivery_id=delivery_id,
                attempted_at=datetime.fromisoformat(outcome["attempted_at"]),
                status_code=outcome["status_code"],
                error=outcome["error"],
                duration_ms=outcome["duration_ms"],
                response_body=outcome["response_body"],
            )
        )
        attempts = row.attempts + 1
        code = outcome["status_code"]
        values: dict[str, Any] = {"attempts": attempts}
        if code is not None and 200 <= code < 300:
            values |= {"status": "delivered", "finished_at": now, "next_attempt_at": None}
        elif outcome.get("refused"):
            values |= {"status": "refused", "finished_at": now, "next_attempt_at": None}
        elif attempts >= max_attempts:
            values |= {"status": "failed", "finished_at": now, "next_attempt_at": None}
            log.warning("webhook delivery %s given up after %s attempts", delivery_id, attempts)
        else:
            delay = backoff_seconds(attempts)
            values["next_attempt_at"] = now + timedelta(seconds=delay)
            retries.setdefault(round(delay), []).append(delivery_id)
        conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(**values)
        )
    for delay, ids in retries.items():
        queue.enqueue(
            conn,
            DELIVER_JOB,
            {"delivery_ids": ids},
            max_attempts=3,
            delay_seconds=delay,
            priority=queue.PROMPT,
        )
