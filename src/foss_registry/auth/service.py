"""Create, verify, list and revoke API tokens.

Tokens are random, prefixed ``foss_`` so secret scanners recognise them, shown
once and stored only as a SHA-256 hash. Verification is a lookup by hash (no
comparison of secrets, so no timing leak) and is never cached, so a revoked or
expired token stops working on the next request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from foss_registry.auth.models import api_tokens
from foss_registry.auth.records import TokenInfo
from foss_registry.db import inserted_id, iso, plain_sql, sql_timestamp, utcnow
from foss_registry.errors import (
    ConflictError,
    FieldError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)

ROLES = ("submitter", "reviewer", "admin")
_ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
TOKEN_PREFIX = "foss_"
_DISPLAY_PREFIX_LEN = 12
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}")
_ID_RE = re.compile(r"[0-9]+")
#: Token ids are positive 64-bit integers.
MAX_TOKEN_ID = 2**63 - 1
# Writing last_used_at on every request would turn each read into a write;
# once a minute is precise enough for "is this token still in use?".
_LAST_USED_GRANULARITY = timedelta(seconds=60)


@dataclass(frozen=True)
class Principal:
    """Who is acting: a token's name and role, and a stable id for rate limits."""

    name: str
    role: str
    key_id: str
    #: A stored token whose ``last_used_at`` is older than a minute (see :func:`note_use`).
    last_used_stale: bool = field(default=False, compare=False)

    def has_role(self, role: str) -> bool:
        """True when this principal's role is at least ``role``."""
        return _ROLE_RANK[self.role] >= _ROLE_RANK[role]


def hash_token(secret: str) -> str:
    """Return the stored form of a token: its SHA-256 hex digest."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def generate_token() -> str:
    """Return a fresh random token (not stored anywhere)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def validate_role(role: str) -> str:
    """Return the role lower-cased, or raise InvalidInputError naming the valid roles."""
    value = role.strip().lower()
    if value not in _ROLE_RANK:
        raise InvalidInputError(
            f"Unknown role {role!r}; use one of: {', '.join(ROLES)}.",
            code="invalid_role",
            errors=[FieldError("role", f"must be one of {', '.join(ROLES)}")],
        )
    return value


def _validate_name(name: str) -> str:
    value = name.strip()
    if not _NAME_RE.fullmatch(value) or _ID_RE.fullmatch(value):
        raise InvalidInputError(
            f"Invalid token name {name!r}: use 1-100 letters, digits or . _ @ + - "
            "starting with a letter or digit, not digits alone (those are read as ids).",
            code="invalid_name",
            errors=[FieldError("name", "invalid token name")],
        )
    return value


def token_reference(name_or_id: str) -> int | str:
    """Read the argument of a revocation: ASCII digits alone are an id, anything else a name.

    Token names cannot be digits alone, so the two never overlap. An id outside
    1 to 2^63-1 is refused (400); other digits (Arabic-Indic, superscript, circled)
    are not ASCII digits, so such a value is a name.
    """
    if not _ID_RE.fullmatch(name_or_id):
        return name_or_id
    token_id = int(name_or_id) if len(name_or_id) <= 19 else 0
    if not 1 <= token_id <= MAX_TOKEN_ID:
        raise InvalidInputError(
            f"Token id {name_or_id[:40]!r} is out of range; ids are 1 to {MAX_TOKEN_ID}.",
            code="invalid_input",
            errors=[FieldError("name_or_id", f"a token id is 1 to {MAX_TOKEN_ID}")],
        )
    return token_id


def create_token(
    conn: Connection, *, name: str, role: str, expires_at: datetime | None = None
) -> tuple[str, TokenInfo]:
    """Store a new token and return ``(secret, record)``; the secret is not kept."""
    name = _validate_name(name)
    role = validate_role(role)
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise InvalidInputError("The expiry must be in the future.", code="invalid_expiry")
    secret = generate_token()
    values = {
        "name": name,
        "role": role,
        "token_hash": hash_token(secret),
        "prefix": secret[:_DISPLAY_PREFIX_LEN],
        "created_at": now,
        "expires_at": expires_at,
    }
    try:
        with conn.begin_nested():
            token_id = inserted_id(conn.execute(api_tokens.insert().values(**values)))
    except IntegrityError as exc:
        raise ConflictError(
            f"A token named {name!r} already exists; revoke it first or choose another name.",
            code="already_exists",
        ) from exc
    return secret, _public(dict(values, id=token_id, last_used_at=None, revoked_at=None))


def _public(row: Mapping[Any, Any]) -> TokenInfo:
    """The public fields of a token row, read by column name (never the hash)."""
    return TokenInfo(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        prefix=row["prefix"],
        created_at=iso(row["created_at"]) or "",  # a column that is never null
        expires_at=iso(row["expires_at"]),
        last_used_at=iso(row["last_used_at"]),
        revoked_at=iso(row["revoked_at"]),
    )


def list_tokens(conn: Connection, *, include_revoked: bool = True) -> list[TokenInfo]:
    """Return every token's public fields (never the hash or the secret)."""
    query = select(*(c for c in api_tokens.c if c.name != "token_hash")).order_by(api_tokens.c.id)
    if not include_revoked:
        query = query.where(api_tokens.c.revoked_at.is_(None))
    return [_public(row._mapping) for row in conn.execute(query)]


def revoke_token(conn: Connection, name_or_id: str) -> TokenInfo:
    """Revoke the active token with this name, or the token with this id.

    See :func:`token_reference` for how a name is told from an id.
    """
    reference = token_reference(name_or_id)
    if isinstance(reference, int):
        query = select(api_tokens).where(api_tokens.c.id == reference)
    else:
        query = select(api_tokens).where(
            api_tokens.c.revoked_at.is_(None), api_tokens.c.name == reference
        )
    result = conn.execute(query).first()
    row = result._mapping if result is not None else None
    if row is None:
        raise NotFoundError(
            f"No active token named or numbered {name_or_id!r}.", code="token_not_found"
        )
    if row["revoked_at"] is not None:
        return _public(row)
    now = utcnow()
    conn.execute(update(api_tokens).where(api_tokens.c.id == row["id"]).values(revoked_at=now))
    return _public(dict(row, revoked_at=now))


@dataclass(frozen=True)
class StaticToken:
    """A token configured in ``FOSS_API_TOKENS`` rather than stored in the database."""

    name: str
    role: str
    token_hash: str
    #: The secret's display prefix; None when only its hash is configured.
    prefix: str | None = None


def parse_static_tokens(spec: str) -> dict[str, StaticToken]:
    """Parse ``name:role:token`` or ``name:role:sha256:<hex>`` entries, comma-separated.

    Returns them indexed by hash. Raises InvalidInputError naming the entry's
    position (never its secret) when one is malformed, or when two entries have
    the same secret or the same name (one secret must mean one name and role).
    """
    tokens: dict[str, StaticToken] = {}
    positions: dict[str, int] = {}
    for position, entry in enumerate((e.strip() for e in spec.split(",")), start=1):
        if not entry:
            continue
        parts = entry.split(":", 2)
        if len(parts) != 3 or not parts[2]:
            raise InvalidInputError(
                f"FOSS_API_TOKENS entry {position} is not name:role:token "
                "or name:role:sha256:<hex>."
            )
        name, role, secret = parts
        role = validate_role(role)
        if secret.startswith("sha256:"):
            digest = secret.removeprefix("sha256:").lower()
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise InvalidInputError(
                    f"FOSS_API_TOKENS entry {position}: sha256: must be followed by 64 hex digits."
                )
            prefix = None
        else:
            digest = hash_token(secret)
            prefix = secret[:_DISPLAY_PREFIX_LEN]
        name = _validate_name(name)
        if digest in tokens:
            raise InvalidInputError(
                f"FOSS_API_TOKENS entries {positions[digest]} and {position} have the same "
                f"secret (as {tokens[digest].name!r} and {name!r}); give each entry its own "
                "token (`foss token generate` makes one)."
            )
        named = next((t for t in tokens.values() if t.name == name), None)
        if named is not None:
            raise InvalidInputError(
                f"FOSS_API_TOKENS entries {positions[named.token_hash]} and {position} are "
                f"both named {name!r}; token names are unique."
            )
        tokens[digest] = StaticToken(name=name, role=role, token_hash=digest, prefix=prefix)
        positions[digest] = position
    return tokens


def static_token_rows(static_tokens: dict[str, StaticToken]) -> list[dict[str, Any]]:
    """The public fields of the ``FOSS_API_TOKENS`` tokens, in the shape of a stored token's,
    with ``static`` true (they have no id or dates, and are revoked by editing the setting)."""
    return [
        {
            "id": None,
            "name": token.name,
            "role": token.role,
            "prefix": token.prefix,
            "created_at": None,
            "expires_at": None,
            "last_used_at": None,
            "revoked_at": None,
            "static": True,
        }
        for token in static_tokens.values()
    ]


def static_principal(secret: str, static_tokens: dict[str, StaticToken]) -> Principal | None:
    """Return the principal of a token listed in ``FOSS_API_TOKENS``, None for any other."""
    if not static_tokens:
        return None
    static = static_tokens.get(hash_token(secret))
    if static is None:
        return None
    return Principal(name=static.name, role=static.role, key_id=f"static:{static.name}")


# Plain SQL: every request with a key looks it up (once, see api/roles.py), and
# compiling the statement would cost more than running it. Times are compared in
# SQL, against parameters in the stored form, so no timestamp needs parsing.
_VERIFY_SQL = (
    "SELECT id, name, role, revoked_at IS NOT NULL, "
    "expires_at IS NOT NULL AND expires_at <= :now, "
    "last_used_at IS NULL OR last_used_at <= :stale "
    "FROM api_tokens WHERE token_hash = :token_hash"
)


def identify(conn: Connection, secret: str, static_tokens: dict[str, StaticToken]) -> Principal:
    """Return who a token belongs to, or raise ForbiddenError if it is not valid now.

    Reads only; :func:`note_use` records the use where the key acted.
    """
    static = static_principal(secret, static_tokens)
    if static is not None:
        return static
    now = utcnow()
    rows = plain_sql(
        conn,
        _VERIFY_SQL,
        {
            "token_hash": hash_token(secret),
            "now": sql_timestamp(conn, now),
            "stale": sql_timestamp(conn, now - _LAST_USED_GRANULARITY),
        },
    )
    if not rows:
        raise ForbiddenError("The API key is not valid.", code="invalid_api_key")
    token_id, name, role, revoked, expired, last_used_stale = rows[0]
    if revoked:
        raise ForbiddenError("The API key has been revoked.", code="invalid_api_key")
    if expired:
        raise ForbiddenError("The API key has expired.", code="invalid_api_key")
    return Principal(
        name=name, role=role, key_id=f"token:{token_id}", last_used_stale=bool(last_used_stale)
    )


def note_use(conn: Connection, principal: Principal) -> None:
    """Record that a stored token acted (``last_used_at``), at most once a minute per token."""
    if principal.last_used_stale and principal.key_id.startswith("token:"):
        token_id = int(principal.key_id.removeprefix("token:"))
        conn.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=utcnow())
        )


def authenticate(conn: Connection, secret: str, static_tokens: dict[str, StaticToken]) -> Principal:
    """Return who a token belongs to and record its use (a web sign-in), in one transaction."""
    principal = identify(conn, secret, static_tokens)
    note_use(conn, principal)
    return principal


def require_role(principal: Principal, role: str) -> None:
    """Raise ForbiddenError unless the principal holds at least ``role``."""
    if not principal.has_role(role):
        raise ForbiddenError(
            f"This action needs the {role} role; the key {principal.name!r} is a {principal.role}.",
            code="forbidden",
        )
