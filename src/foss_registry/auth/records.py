"""The API token as the services return it and the API shows it (one definition)."""

from __future__ import annotations

from msgspec import Struct


class TokenInfo(Struct, frozen=True):
    """A token's public fields; the secret appears only in the creation answer."""

    id: int
    name: str
    role: str
    prefix: str
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None


class TokenCreated(TokenInfo, frozen=True):
    """Answer of ``POST /tokens``: the token's fields and, once, its secret."""

    token: str = ""
