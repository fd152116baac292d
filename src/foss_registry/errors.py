"""Domain errors raised by services and pure logic, translated once at the API edge.

Each error carries a stable machine ``code`` and a human ``detail`` sentence; the
API turns them into RFC 9457 problem details with the matching HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One invalid input field and what is wrong with it."""

    field: str
    message: str


class DomainError(Exception):
    """Base of every error a user can cause; ``status`` is the HTTP status at the edge."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal Server Error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors: list[FieldError] = errors or []
        #: Extension members of the problem body (RFC 9457 section 3.2), e.g. ``findings``.
        self.extra: dict[str, Any] = extra or {}


class InvalidInputError(DomainError):
    """The request is malformed or a value is invalid (HTTP 400)."""

    status = 400
    code = "invalid_input"
    title = "Bad Request"


class NotFoundError(DomainError):
    """The named resource does not exist (HTTP 404)."""

    status = 404
    code = "not_found"
    title = "Not Found"


class ConflictError(DomainError):
    """The resource already exists (HTTP 409)."""

    status = 409
    code = "already_exists"
    title = "Conflict"


class UnauthorizedError(DomainError):
    """No credentials were sent where they are required (HTTP 401)."""

    status = 401
    code = "missing_api_key"
    title = "Unauthorized"


class MissingKeyError(UnauthorizedError):
    """A route that needs a key was called without one (HTTP 401); the one sentence for it."""

    def __init__(self) -> None:
        super().__init__(
            "This action needs an API key in the X-API-Key header; create one with "
            "`foss token create`.",
            code="missing_api_key",
        )


class ForbiddenError(DomainError):
    """Credentials are invalid, expired, revoked or lack the role (HTTP 403)."""

    status = 403
    code = "forbidden"
    title = "Forbidden"
