"""``/webhooks`` (admin): register receivers of signed events, and read their deliveries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from msgspec import Struct
from sqlalchemy import Connection

from foss_registry.api.deps import context, run_db
from foss_registry.api.params import Limit, Offset, RecordId, record_id
from foss_registry.api.roles import Actor, requires
from foss_registry.db import read_connection, write_transaction
from foss_registry.webhooks import service as webhooks
from foss_registry.webhooks.records import (
    CreatedWebhook,
    DeliveryPage,
    Webhook,
    WebhookWithCounts,
)


class WebhookList(Struct):
    """Answer of ``GET /webhooks``."""

    webhooks: list[Webhook]


class WebhookCreate(Struct, forbid_unknown_fields=True):
    """Body of ``POST /webhooks``."""

    url: str
    events: list[str]


@post(
    "/webhooks",
    summary="Register a webhook (admin)",
    tags=["webhooks"],
    status_code=201,
    **requires("admin", body=WebhookCreate),
    description=(
        "Events: `package.submitted`, `package.approved`, `package.rejected`, "
        "`package.flagged`, `triage.expired`. Deliveries follow Standard Webhooks "
        "(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`). "
        "The `secret` (`whsec_...`) is in this answer only. URLs to loopback, private, "
        "link-local or metadata addresses are refused unless FOSS_WEBHOOKS_ALLOW_PRIVATE=true."
    ),
)
async def create_webhook(
    request: Request[Any, Any, Any], payload: NamedDependency[WebhookCreate], actor: Actor
) -> Response[CreatedWebhook]:
    """Register a webhook; its secret is shown here and never again."""
    ctx = context(request)

    def work() -> CreatedWebhook:
        with write_transaction(ctx.engine) as conn:
            return webhooks.create(
                conn,
                url=payload.url,
                events=payload.events,
                by=actor.name,
                allow_private=ctx.settings.webhooks_allow_private,
            )

    return Response(
        await run_db(request, work), status_code=201, headers={"Cache-Control": "no-store"}
    )


async def _read(request: Request[Any, Any, Any], fn: Callable[[Connection], Any]) -> Any:
    ctx = context(request)

    def work() -> Any:
        with read_connection(ctx.engine) as conn:
            return fn(conn)

    return await run_db(request, work)


@get("/webhooks", summary="List webhooks (admin)", tags=["webhooks"], **requires("admin"))
async def list_webhooks(request: Request[Any, Any, Any]) -> WebhookList:
    """Every webhook, never its secret."""
    return WebhookList(webhooks=await _read(request, webhooks.list_webhooks))


@get(
    "/webhooks/{webhook_id:str}",
    summary="Show a webhook (admin)",
    tags=["webhooks"],
    **requires("admin"),
)
async def get_webhook(request: Request[Any, Any, Any], webhook_id: RecordId) -> WebhookWithCounts:
    """One webhook with its delivery counts, never its secret."""
    ident = record_id("webhook_id", webhook_id)
    result: WebhookWithCounts = await _read(request, lambda c: webhooks.get(c, ident))
    return result


@delete(
    "/webhooks/{webhook_id:str}",
    summary="Delete a webhook (admin)",
    tags=["webhooks"],
    status_code=200,
    **requires("admin"),
)
async def delete_webhook(
    request: Request[Any, Any, Any], webhook_id: RecordId
) -> WebhookWithCounts:
    """Stop deliveries to a webhook."""
    ctx = context(request)
    ident = record_id("webhook_id", webhook_id)

    def work() -> WebhookWithCounts:
        with write_transaction(ctx.engine) as conn:
            return webhooks.delete(conn, ident)

    return await run_db(request, work)


@get(
    "/webhooks/{webhook_id:str}/deliveries",
    summary="A webhook's deliveries and their attempts (admin)",
    tags=["webhooks"],
    **requires("admin"),
)
async def list_deliveries(
    request: Request[Any, Any, Any],
    webhook_id: RecordId,
    limit: Limit = 100,
    offset: Offset = 0,
) -> DeliveryPage:
    """Deliveries newest first, each attempt with its status code, error and duration."""
    ident = record_id("webhook_id", webhook_id)
    result: DeliveryPage = await _read(
        request, lambda c: webhooks.deliveries(c, ident, limit=limit, offset=offset)
    )
    return result
