"""Who is looking at a page: the session cookie, the signed-in principal, the CSRF token.

The cookie holds only a random session id (HttpOnly, SameSite=Lax, Secure over
HTTPS); the session itself is in the database (``auth.sessions``). The CSRF
token of the session travels in a hidden form field ``csrf_token`` or, from
htmx, in the ``X-CSRF-Token`` header; a state-changing request without the
session's token is refused before anything is read or written.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from litestar import Request, Response

from foss_registry.api.deps import context, run_db, run_write
from foss_registry.auth import sessions
from foss_registry.auth.service import Principal
from foss_registry.db import read_connection

COOKIE = "foss_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: Whoever acts when authentication is off (local development only), as the API does.
NO_AUTH_PRINCIPAL = Principal(name="anonymous", role="admin", key_id="")


@dataclass
class Viewer:
    """The person behind a request, as far as the pages know."""

    principal: Principal | None = None
    csrf_token: str | None = None
    #: The session's secret id as the browser sent it (None without a live session).
    session_secret: str | None = None
    #: A sentence saying why the session just ended, shown once.
    ended: str | None = None
    #: Cookie to set (a new session id) or clear ("") on the response.
    set_cookie: str | None = None
    auth_enabled: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def signed_in(self) -> bool:
        """True when a token signed in (always, with authentication off)."""
        return self.principal is not None

    def can(self, role: str) -> bool:
        """True when the viewer holds at least ``role``."""
        return self.principal is not None and self.principal.has_role(role)


def _idle(request: Request[Any, Any, Any]) -> timedelta:
    return timedelta(minutes=context(request).settings.web_session_idle_minutes)


async def viewer_of(request: Request[Any, Any, Any]) -> Viewer:
    """Look the request's session up; a session that has ended is deleted and its cookie cleared."""
    ctx = context(request)
    viewer = Viewer(auth_enabled=ctx.settings.auth_enabled)
    if not ctx.settings.auth_enabled:
        viewer.principal = NO_AUTH_PRINCIPAL
    secret = request.cookies.get(COOKIE)
    if not secret:
        return viewer

    def read() -> sessions.WebSession | sessions.EndedSession | None:
        with read_connection(ctx.engine) as conn:
            return sessions.find(conn, secret, ctx.static_tokens, idle=_idle(request))

    found = await run_db(request, read)
    if found is None:
        viewer.set_cookie = ""
        return viewer
    if isinstance(found, sessions.EndedSession):
        await run_write(request, lambda conn: sessions.end(conn, found.id_hash))
        viewer.ended = found.reason
        viewer.set_cookie = ""
        return viewer
    if found.needs_touch:
        await run_write(request, lambda conn: sessions.touch(conn, found.id_hash))
    viewer.csrf_token = found.csrf_token
    viewer.session_secret = secret
    if found.principal is not None:
        viewer.principal = found.principal
    return viewer


async def ensure_session(request: Request[Any, Any, Any], viewer: Viewer) -> None:
    """Give the viewer a session (so a form can carry a CSRF token) when it has none."""
    if viewer.csrf_token is not None:
        return

    def work(conn: Any) -> tuple[str, sessions.WebSession]:
        sessions.purge_idle(conn, idle=_idle(request))
        return sessions.open_session(conn)

    secret, session = await run_write(request, work)
    viewer.csrf_token = session.csrf_token
    viewer.session_secret = secret
    viewer.set_cookie = secret


def csrf_valid(viewer: Viewer, form: Any, request: Request[Any, Any, Any]) -> bool:
    """True when the request carries the session's CSRF token (form field or htmx header)."""
    if viewer.csrf_token is None:
        return False
    sent = form.get(CSRF_FIELD) if form is not None else None
    sent = sent or request.headers.get(CSRF_HEADER)
    return isinstance(sent, str) and secrets.compare_digest(sent, viewer.csrf_token)


def apply_cookie(request: Request[Any, Any, Any], response: Response[Any], viewer: Viewer) -> None:
    """Set or clear the session cookie on a response as the viewer's state asks."""
    if viewer.set_cookie is None:
        return
    # Cleared with an empty value that expires at once, with the same attributes.
    response.set_cookie(
        COOKIE,
        viewer.set_cookie,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=None if viewer.set_cookie else 0,
    )
