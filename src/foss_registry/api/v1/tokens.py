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
from foss_registry.api.v1.schemas import TokenCreate, TokenCreated, TokenInfo
from foss_registry.auth import service as auth
from foss_registry.db import read_connection, utcnow, write_transaction
from foss_registry.packages.service import iso


def _info(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: iso(v) if k.endswith("_at") else v
        for k, v in row.items()
        if k in TokenInfo.__struct_fields__
    }


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

    def work() -> dict[str, Any]:
        with write_transaction(ctx.engine) as conn:
            expires = (
                utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
            )
            secret, row = auth.create_token(
                conn, name=body.name, role=body.role, expires_at=expires
            )
            return _info(row) | {"token": secret}

    created = await run_db(request, work)
    return Response(
        msgspec.convert(created, TokenCreated),
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@get("/tokens", summary="List tokens (admin)", tags=["admin"], **requires("admin"))
async def list_tokens(request: Request[Any, Any, Any]) -> list[TokenInfo]:
    """Every token's name, role, prefix and dates; never a secret."""
    ctx = context(request)

    def work() -> list[dict[str, Any]]:
        with read_connection(ctx.engine) as conn:
            return [_info(r) for r in auth.list_tokens(conn)]

    return msgspec.convert(await run_db(request, work), list[TokenInfo])


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

    def work() -> dict[str, Any]:
        with write_transaction(ctx.engine) as conn:
            return _info(auth.revoke_token(conn, name_or_id))

    return msgspec.convert(await run_db(request, work), TokenInfo)
