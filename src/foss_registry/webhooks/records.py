"""Webhooks and their deliveries as the services return them and the API shows them."""

from __future__ import annotations

from msgspec import Struct


class Webhook(Struct):
    """A receiver of signed events (never with its secret, but when just created)."""

    id: int
    url: str
    events: list[str]
    created_by: str
    created_at: str | None


class DeliveryCounts(Struct):
    """How many of a webhook's deliveries are in each state."""

    pending: int
    delivered: int
    failed: int
    refused: int


class WebhookWithCounts(Webhook):
    """A webhook with its delivery counts."""

    deliveries: DeliveryCounts


class CreatedWebhook(WebhookWithCounts):
    """A new webhook with its signing secret, shown in this answer only."""

    secret: str


class DeliveryAttempt(Struct):
    """One try at delivering an event: the receiver's status code, or the error."""

    at: str | None
    status_code: int | None
    error: str | None
    duration_ms: int


class Delivery(Struct):
    """One event on its way to one webhook, with every attempt."""

    id: int
    webhook_id: int
    event: str
    webhook_message_id: str
    status: str
    attempts: list[DeliveryAttempt]
    next_attempt_at: str | None
    created_at: str | None
    finished_at: str | None


class DeliveryPage(Struct):
    """A page of a webhook's deliveries, newest first."""

    deliveries: list[Delivery]
    total: int
    limit: int
    offset: int
