"""Webhook tables: subscriptions, the event outbox, deliveries and their attempts."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, text

from foss_registry.db import UTCDateTime, json_type, metadata

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("events", json_type(), nullable=False),
    # Kept so deliveries can be signed; never shown after creation.
    Column("secret", String(128), nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime),
)

# The outbox: written in the transaction of the change that caused the event.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("type", String(64), nullable=False),
    # The exact body every delivery of this event sends (JSON text).
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("dispatched_at", UTCDateTime),
    Index(
        "ix_webhook_events_undispatched",
        "id",
        sqlite_where=text("dispatched_at IS NULL"),
        postgresql_where=text("dispatched_at IS NULL"),
    ),
)

DELIVERY_STATUSES = ("pending", "delivered", "failed", "refused")

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("webhook_id", Integer, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column(
        "event_id", Integer, ForeignKey("webhook_events.id", ondelete="CASCADE"), nullable=False
    ),
    # The Standard Webhooks ``webhook-id``: the same on every attempt.
    Column("message_id", String(64), nullable=False, unique=True),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "delivery_id",
        Integer,
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("attempted_at", UTCDateTime, nullable=False),
    # The HTTP status answered; None when no answer came (refused, timeout, error).
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    Column("response_body", Text),
    Index("ix_webhook_attempts_delivery", "delivery_id", "id"),
)
