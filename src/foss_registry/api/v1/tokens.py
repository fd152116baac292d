"""``/tokens`` (admin): create, list and revoke API tokens over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from foss_registry.api.deps import context, run_db
from foss_registry.api.roles import requires
from foss_registry.api.v1.schemas import TokenCreate
from foss_registry.auth import service as auth
from foss_registry.auth.records import TokenCreated, TokenInfo
from foss_registry.db import read_connection, utcnow, write_transaction


@post(
    "/tokens",
    summary="Create a token (admin)",
    tags=["admin"],
    status_code=201,
    **requires("admin", body=TokenCreate),
)
async def create_token(
    request: Request[Any, Any, Any], payload: NamedDependency[TokenCreate]
) -> Response[TokenCreated]:
    """Create a token; its secret is in this answer and nowhere else, ever."""
    ctx = context(request)
    body = payload

    def work() -> TokenCreated:
        with write_transaction(ctx.engine) as conn:
            expires = (
                utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
            )
            secret, info = auth.create_token(
                conn, name=body.name, role=body.role, expires_at=expires
            )
            return TokenCreated(**msgspec.structs.asdict(info), token=secret)

    return Response(
        await run_db(request, work),
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@get("/tokens", summary="List tokens (admin)", tags=["admin"], **requires("admin"))
async def list_tokens(request: Request[Any, Any, Any]) -> list[TokenInfo]:
    """Every token's name, role, prefix and dates; never a secret."""
    ctx = context(request)

    def work() -> list[TokenInfo]:
        with read_connection(ctx.engine) as conn:
            return auth.list_tokens(conn)

    return await run_db(request, work)


@delete(
    "/tokens/{name_or_id:str}",
    summary="Revoke a token (admin)",
    tags=["admin"],
    status_code=200,
    **requires("admin"),
)
async def revoke_token(request: Request[Any, Any, Any], name_or_id: FromPath[str]) -> TokenInfo:
    """Revoke a token by name or id; it stops working on the next request."""
    ctx = context(request)

    def work() -> TokenInfo:
        with write_transaction(ctx.engine) as conn:
            return auth.revoke_token(conn, name_or_id)

    return await run_db(request, work)
