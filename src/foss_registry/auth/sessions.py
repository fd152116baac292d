"""Browser sessions of the web pages, kept in the database so every server process shares them.

A session is opened before signing in (it carries the sign-in form's CSRF
token) and replaced by a new one when an API token signs in, so the id a
browser held before is worthless after (the id is rotated). The session id is
a random secret kept only as its SHA-256 hash, like a token; a signed-in
session refers to its API token by the token's stored hash, never the secret,
and is checked against that token at every request: a revoked or expired token
ends its sessions then. A session unused for longer than the idle limit ends
too.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, delete, update

from foss_registry.auth import service as auth
from foss_registry.auth.models import web_sessions
from foss_registry.auth.service import Principal, StaticToken
from foss_registry.db import plain_sql, sql_timestamp, utcnow

# Writing last_seen_at at every page view would turn each read into a write;
# once a minute is precise enough for an idle limit counted in minutes.
_TOUCH_GRANULARITY = timedelta(seconds=60)

_FIND_SQL = (
    "SELECT s.csrf_token, s.token_hash, s.last_seen_at <= :idle_cut, "
    "s.last_seen_at <= :touch_cut, t.id, t.name, t.role, t.revoked_at IS NOT NULL, "
    "t.expires_at IS NOT NULL AND t.expires_at <= :now "
    "FROM web_sessions s LEFT JOIN api_tokens t ON t.token_hash = s.token_hash "
    "WHERE s.id_hash = :id_hash"
)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class WebSession:
    """A live session: its CSRF token and, once signed in, who it acts as."""

    id_hash: str
    csrf_token: str
    principal: Principal | None
    #: True when ``last_seen_at`` should be written again (see :func:`touch`).
    needs_touch: bool = False


@dataclass(frozen=True)
class EndedSession:
    """A session that has just ended (idle too long, or its token revoked or expired)."""

    id_hash: str
    reason: str


def open_session(conn: Connection, token_hash: str | None = None) -> tuple[str, WebSession]:
    """Store a new session (signed in when ``token_hash`` is given); return its secret id."""
    secret = secrets.token_urlsafe(32)
    id_hash, csrf_token, now = _hash(secret), secrets.token_urlsafe(32), utcnow()
    conn.execute(
        web_sessions.insert().values(
            id_hash=id_hash,
            csrf_token=csrf_token,
            token_hash=token_hash,
            created_at=now,
            last_seen_at=now,
        )
    )
    return secret, WebSession(id_hash, csrf_token, None)


def find(
    conn: Connection,
    secret: str,
    static_tokens: dict[str, StaticToken],
    *,
    idle: timedelta,
) -> WebSession | EndedSession | None:
    """Return the session a browser's secret id names, what ended it, or None when unknown.

    Reads only: an ended session is for the caller to delete (:func:`end`).
    """
    id_hash = _hash(secret)
    now = utcnow()
    rows = plain_sql(
        conn,
        _FIND_SQL,
        {
            "id_hash": id_hash,
            "now": sql_timestamp(conn, now),
            "idle_cut": sql_timestamp(conn, now - idle),
            "touch_cut": sql_timestamp(conn, now - _TOUCH_GRANULARITY),
        },
    )
    if not rows:
        return None
    csrf, token_hash, idle_expired, touch, token_id, name, role, revoked, expired = rows[0]
    if idle_expired:
        return EndedSession(id_hash, "Your session ended after a period without use.")
    principal: Principal | None = None
    if token_hash is not None:
        static = static_tokens.get(token_hash)
        if static is not None:
            principal = Principal(static.name, static.role, f"static:{static.name}")
        elif token_id is None or revoked:
            return EndedSession(id_hash, "Your session ended: its API token has been revoked.")
        elif expired:
            return EndedSession(id_hash, "Your session ended: its API token has expired.")
        else:
            principal = Principal(name, role, f"token:{token_id}")
    return WebSession(id_hash, csrf, principal, needs_touch=bool(touch))


def touch(conn: Connection, id_hash: str) -> None:
    """Record that a session was just used (keeps it from the idle limit)."""
    conn.execute(
        update(web_sessions).where(web_sessions.c.id_hash == id_hash).values(last_seen_at=utcnow())
    )


def end(conn: Connection, id_hash: str) -> None:
    """Delete a session (signing out, or once it has ended)."""
    conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash))


def sign_out(conn: Connection, secret: str) -> None:
    """End the session a browser's secret id names (nothing happens for an unknown id)."""
    end(conn, _hash(secret))


def sign_in(
    conn: Connection,
    api_token: str,
    static_tokens: dict[str, StaticToken],
    *,
    previous: str | None,
) -> tuple[str, WebSession, Principal]:
    """Check an API token and open a signed-in session in place of ``previous``.

    Raises ForbiddenError (the API's words: not valid, revoked, expired) when
    the token cannot sign in; nothing is stored then.
    """
    principal = auth.authenticate(conn, api_token.strip(), static_tokens)
    if previous is not None:
        end(conn, _hash(previous))
    secret, session = open_session(conn, auth.hash_token(api_token.strip()))
    return secret, WebSession(session.id_hash, session.csrf_token, principal), principal


def purge_idle(conn: Connection, *, idle: timedelta) -> int:
    """Delete every session unused for longer than ``idle``; return how many."""
    cut = utcnow() - idle
    result = conn.execute(delete(web_sessions).where(web_sessions.c.last_seen_at < cut))
    return int(result.rowcount or 0)
