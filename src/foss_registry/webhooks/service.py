"""Register, list, show and delete webhooks; list a webhook's deliveries with their attempts.

The secret is returned by :func:`create` once and never again: every other
function leaves it out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, func, select, update

from foss_registry.db import utcnow
from foss_registry.errors import FieldError, InvalidInputError, NotFoundError
from foss_registry.packages.records import iso
from foss_registry.webhooks import signing
from foss_registry.webhooks.addresses import RefusedAddress, check_url
from foss_registry.webhooks.events import EVENT_TYPES
from foss_registry.webhooks.models import (
    webhook_attempts,
    webhook_deliveries,
    webhook_events,
    webhooks,
)
from foss_registry.webhooks.records import (
    CreatedWebhook,
    Delivery,
    DeliveryAttempt,
    DeliveryCounts,
    DeliveryPage,
    Webhook,
    WebhookWithCounts,
)

MAX_URL_LENGTH = 2048


def _bad(field: str, message: str, code: str = "invalid_webhook") -> InvalidInputError:
    return InvalidInputError(message, code=code, errors=[FieldError(field, message)])


def validate_url(url: str, *, allow_private: bool) -> str:
    """Return the URL trimmed, or raise 400: http(s), a host, no credentials, not private."""
    text = url.strip() if isinstance(url, str) else ""
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(text) > MAX_URL_LENGTH
        or any(c.isspace() or ord(c) < 32 for c in text)
    ):
        raise _bad(
            "url", f"The webhook URL must be an http:// or https:// URL, got {text[:100]!r}."
        )
    if parts.username or parts.password:
        raise _bad(
            "url", "The webhook URL must not carry credentials; the signature authenticates."
        )
    if not allow_private:
        try:
            check_url(text)
        except RefusedAddress as exc:
            raise _bad(
                "url",
                f"The webhook URL is refused: {exc}. Webhooks may not call loopback, private, "
                "link-local or metadata addresses (FOSS_WEBHOOKS_ALLOW_PRIVATE=true allows them).",
                "refused_url",
            ) from None
    return text


def validate_events(events: list[str]) -> list[str]:
    """Return the event types, de-duplicated in their canonical order; 400 for unknown ones."""
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown or not events:
        raise _bad(
            "events",
            f"Unknown event types {unknown}; use some of {', '.join(EVENT_TYPES)}."
            if unknown
            else f"Name at least one event type: {', '.join(EVENT_TYPES)}.",
        )
    return [e for e in EVENT_TYPES if e in events]


def _fields(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "events": list(row.events),
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
    }


def create(
    conn: Connection, *, url: str, events: list[str], by: str, allow_private: bool
) -> CreatedWebhook:
    """Register a webhook; the answer alone carries its ``secret``."""
    secret = signing.new_secret()
    values = {
        "url": validate_url(url, allow_private=allow_private),
        "events": validate_events(events),
        "secret": secret,
        "created_by": by,
        "created_at": utcnow(),
    }
    new_id = conn.execute(webhooks.insert().values(**values).returning(webhooks.c.id)).scalar_one()
    no_deliveries = DeliveryCounts(pending=0, delivered=0, failed=0, refused=0)
    return CreatedWebhook(
        **_fields(_live(conn, new_id)), deliveries=no_deliveries, secret=secret
    )


def _live(conn: Connection, webhook_id: int) -> Any:
    row = conn.execute(
        select(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.deleted_at.is_(None))
    ).first()
    if row is None:
        raise NotFoundError(f"No webhook with id {webhook_id}.", code="webhook_not_found")
    return row


def get(conn: Connection, webhook_id: int) -> WebhookWithCounts:
    """One webhook, without its secret, with its delivery counts."""
    row = _live(conn, webhook_id)
    counts: dict[str, int] = {
        status: int(count)
        for status, count in conn.execute(
            select(webhook_deliveries.c.status, func.count())
            .where(webhook_deliveries.c.webhook_id == webhook_id)
            .group_by(webhook_deliveries.c.status)
        )
    }
    return WebhookWithCounts(
        **_fields(row),
        deliveries=DeliveryCounts(
            **{s: int(counts.get(s, 0)) for s in DeliveryCounts.__struct_fields__}
        ),
    )


def list_webhooks(conn: Connection) -> list[Webhook]:
    """Every live webhook, oldest first, without secrets."""
    rows = conn.execute(
        select(webhooks).where(webhooks.c.deleted_at.is_(None)).order_by(webhooks.c.id)
    )
    return [Webhook(**_fields(r)) for r in rows]


def delete(conn: Connection, webhook_id: int) -> WebhookWithCounts:
    """Stop a webhook: no new deliveries; the ones under way are dropped at their next attempt."""
    shown = get(conn, webhook_id)
    conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(deleted_at=utcnow()))
    return shown


def deliveries(
    conn: Connection, webhook_id: int, *, limit: int = 100, offset: int = 0
) -> DeliveryPage:
    """A webhook's deliveries, newest first, each with every attempt."""
    _live(conn, webhook_id)
    total = conn.execute(
        select(func.count()).where(webhook_deliveries.c.webhook_id == webhook_id)
    ).scalar_one()
    rows = conn.execute(
        select(webhook_deliveries, webhook_events.c.type)
        .join(webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id)
        .where(webhook_deliveries.c.webhook_id == webhook_id)
        .order_by(webhook_deliveries.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    ids = [r.id for r in rows]
    attempts: dict[int, list[DeliveryAttempt]] = {i: [] for i in ids}
    if ids:
        for a in conn.execute(
            select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id.in_(ids))
            .order_by(webhook_attempts.c.id)
        ):
            attempts[a.delivery_id].append(
                DeliveryAttempt(
                    at=iso(a.attempted_at),
                    status_code=a.status_code,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
            )
    return DeliveryPage(
        deliveries=[
            Delivery(
                id=r.id,
                webhook_id=r.webhook_id,
                event=r.type,
                webhook_message_id=r.message_id,
                status=r.status,
                attempts=attempts[r.id],
                next_attempt_at=iso(r.next_attempt_at),
                created_at=iso(r.created_at),
                finished_at=iso(r.finished_at),
            )
            for r in rows
        ],
        total=int(total),
        limit=limit,
        offset=offset,
    )
