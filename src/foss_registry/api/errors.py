"""The single error format: every non-2xx answer is RFC 9457 problem details.

Domain errors, Litestar's own HTTP errors (unknown route, 405, 413, invalid
parameters) and unexpected exceptions all pass through :func:`problem_response`.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from foss_registry.errors import DomainError, FieldError

log = logging.getLogger("foss_registry.api")

PROBLEM_JSON = "application/problem+json"
#: Where the rate limiter leaves the refusal of a request for the framework to answer.
RATE_LIMITED_STATE = "foss_rate_limited"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_CODES = {
    400: "invalid_input",
    401: "missing_api_key",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "already_exists",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def problem_body(
    status: int,
    detail: str,
    code: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the problem-details dictionary for a status and a sentence (``extra``: members)."""
    code = code or _CODES.get(status, "error")
    body: dict[str, Any] = {
        "type": f"urn:foss-registry:problem:{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return body


def problem_response(
    status: int,
    detail: str,
    code: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    """Return a problem-details response."""
    return Response(
        content=problem_body(status, detail, code, errors, extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _validation_errors(exc: ValidationException) -> list[FieldError]:
    errors: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            errors.append(FieldError(str(item.get("key", "")), str(item.get("message", ""))))
    return errors


def _missing_parameters(request: Request[Any, Any, Any]) -> list[FieldError]:
    """Every required query, header or cookie parameter the request lacks.

    Litestar names only the first one it misses, in a sentence and not in ``errors``.
    """
    # Only the path parameters' names matter to the model.
    path_parameters: dict[str, Any] = dict.fromkeys(request.path_params)
    try:
        model = request.route_handler.create_kwargs_model(path_parameters)
    except Exception:  # no route matched: nothing to name
        return []
    given = {
        "query": set(request.query_params),
        "header": {name.lower() for name in request.headers},
        "cookie": set(request.cookies),
    }
    expected = [
        *model.expected_query_params,
        *model.expected_header_params,
        *model.expected_cookie_params,
    ]
    return [
        FieldError(param.field_alias, f"required {kind} parameter, not given")
        for param in sorted(expected, key=lambda p: p.field_alias)
        if param.is_required
        and (kind := param.param_type.value)
        and (param.field_alias.lower() if kind == "header" else param.field_alias)
        not in given[kind]
    ]


def handle_domain_error(_request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """Translate a domain error raised by a service (or a refusal of the rate limiter)."""
    headers = getattr(exc, "headers", None)
    return problem_response(
        exc.status, exc.detail, exc.code, exc.errors, extra=exc.extra, headers=headers
    )


def _body_limit(request: Request[Any, Any, Any]) -> str:
    """The body limit of the route asked for (some routes, like /check, allow more)."""
    limit: Any
    try:
        limit = request.route_handler.resolve_request_max_body_size()
    except Exception:  # no route matched: the app's own limit applies
        limit = request.app.request_max_body_size
    if not isinstance(limit, int) or limit <= 0:
        return "the server"
    return f"{limit / 1024 / 1024:g} MiB" if limit % (1024 * 1024) == 0 else f"{limit:,} bytes"


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Translate Litestar's own HTTP errors into the one format."""
    refused = request.scope.get("state", {}).get(RATE_LIMITED_STATE)
    if refused is not None and exc.status_code in (404, 405):
        # A rate-limited request to a path or method no route serves: still a 429.
        return handle_domain_error(request, refused)
    status = exc.status_code
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc) or _missing_parameters(request)
        parts = [f"{e.field}: {e.message[:1].lower()}{e.message[1:]}" for e in errors]
        detail = (
            "Invalid parameter " + "; ".join(parts).replace("`", "") + "."
            if parts
            else "The request is not valid."
        )
        return problem_response(400, detail, "invalid_input", errors)
    if status == 404:
        detail = f"No route {request.url.path!r}; the API lives under /api/v1."
    elif status == 405:
        detail = f"The method {request.method} is not allowed on {request.url.path!r}."
    elif status == 413:
        detail = f"The request body is larger than the limit of {_body_limit(request)}."
    else:
        detail = exc.detail or _TITLES.get(status, "Error")
    return problem_response(status, detail, headers=getattr(exc, "headers", None) or None)


def handle_unexpected(_request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Log an unexpected error and answer 500 without leaking internals."""
    log.error("unhandled error", exc_info=exc)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "The server hit an unexpected error; it has been logged. Try again or contact the admins.",
    )
