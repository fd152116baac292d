"""Who may call a route: the role it needs, declared on the route, checked before it runs.

A route that needs a key spreads :func:`requires` into its decorator::

    @post("/reviews", **requires("reviewer", body=ReviewDecision), status_code=201)
    async def decide(
        request: Request, payload: NamedDependency[ReviewDecision], actor: Actor
    ) -> ...:

That declares the ``apiKey`` security scheme (the OpenAPI document says so), a
guard that answers 401 without a key and 403 with an invalid one or one below
the role, before the body is read, and, with ``body``, the JSON body: the
handler's ``payload`` is decoded from it (every problem a clear 400) and
documented from its type. ``actor`` is who acts; with auth off, the body's
``submitted_by`` (or ``anonymous``) acting as admin.

The request's key is looked up once (:func:`lookup_key`): the rate limiter, the
guard and the access log share the outcome kept in the request's state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler

from foss_registry.api.deps import context, decode_body
from foss_registry.auth import service as auth
from foss_registry.auth.service import Principal
from foss_registry.db import read_connection, write_transaction
from foss_registry.errors import DomainError, MissingKeyError

#: The handler parameter naming who acts: ``actor: Actor``.
Actor = NamedDependency[Principal]
#: Where the outcome of looking up the request's key is kept (rate limits, guard, log).
KEY_STATE = "foss_key_lookup"


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def lookup_key(app: Any, scope: Any) -> Principal | DomainError | None:
    """Identify the request's ``X-API-Key`` once per request (read only), caching the outcome.

    Returns the principal, the error explaining why the key is not valid, or
    None when no key was sent or auth is off.
    """
    state = scope.setdefault("state", {})
    if KEY_STATE in state:
        cached: Principal | DomainError | None = state[KEY_STATE]
        return cached
    ctx = app.state.ctx
    secret = (_header(scope, b"x-api-key") or "").strip()
    outcome: Principal | DomainError | None = None
    if secret and ctx.settings.auth_enabled:
        # A token from FOSS_API_TOKENS needs no database (nor a thread to reach it).
        outcome = auth.static_principal(secret, ctx.static_tokens)
        if outcome is None:

            def work() -> Principal:
                with read_connection(ctx.engine) as conn:
                    return auth.identify(conn, secret, ctx.static_tokens)

            try:
                outcome = await anyio.to_thread.run_sync(work, limiter=ctx.limiter)
            except DomainError as exc:
                outcome = exc
    state[KEY_STATE] = outcome
    return outcome


async def _note_use(connection: ASGIConnection[Any, Any, Any, Any], principal: Principal) -> None:
    # At most once a minute per token: a small write of its own.
    ctx = connection.app.state.ctx

    def work(conn: Any) -> None:
        auth.note_use(conn, principal)

    if ctx.group_commit is not None:
        await asyncio.wrap_future(ctx.group_commit.submit(work))
        return

    def write() -> None:
        with write_transaction(ctx.engine) as conn:
            work(conn)

    await anyio.to_thread.run_sync(write, limiter=ctx.limiter)


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def role_guard(role: str) -> Guard:
    """A Litestar guard: a valid key holding at least ``role`` (any caller when auth is off)."""
    auth.validate_role(role)

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
    ) -> None:
        if not connection.app.state.ctx.settings.auth_enabled:
            return
        outcome = await lookup_key(connection.app, connection.scope)
        if outcome is None:
            raise MissingKeyError()
        if isinstance(outcome, DomainError):
            raise outcome
        auth.require_role(outcome, role)
        if outcome.last_used_stale:
            await _note_use(connection, outcome)

    return guard


def _actor(request: Request[Any, Any, Any], name: str | None) -> Principal:
    if context(request).settings.auth_enabled:
        principal = request.scope["state"][KEY_STATE]
        assert isinstance(principal, Principal), "the role guard runs first"
        return principal
    return Principal(name=(name or "anonymous").strip() or "anonymous", role="admin", key_id="")


def _submitted_by(payload: Any) -> str | None:
    return getattr(payload, "submitted_by", None)


def requires(
    role: str,
    *,
    body: type[Any] | None = None,
    named_by: Callable[[Any], str | None] = _submitted_by,
) -> dict[str, Any]:
    """The route decorator's arguments of a route that needs a key with ``role`` (see above).

    ``named_by`` gives, from the body, who acts when auth is off (``submitted_by``).
    """
    dependencies: dict[str, Provide] = {}
    if body is None:

        def actor(request: Request[Any, Any, Any]) -> Principal:
            return _actor(request, None)

    else:

        async def payload(request: Request[Any, Any, Any]) -> Any:
            return await decode_body(request, body)

        def actor(  # type: ignore[misc]
            request: Request[Any, Any, Any], payload: NamedDependency[Any]
        ) -> Principal:
            return _actor(request, named_by(payload))

        dependencies["payload"] = Provide(payload)
    dependencies["actor"] = Provide(actor, sync_to_thread=False)
    return {
        "security": [{"apiKey": []}],
        "guards": [role_guard(role)],
        "dependencies": dependencies,
        "opt": {"role": role, "request_body": body},
    }
