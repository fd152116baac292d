"""Completes the generated OpenAPI document with what the handlers do by hand.

Litestar documents what it sees in a handler's signature. Our handlers read
their JSON bodies themselves (to check the key first and to answer every
problem with a clear 400), and every error is RFC 9457 problem details from
one place; neither shows in a signature. This module adds to each ``/api/``
operation:

- its ``requestBody``, from the handler's ``opt["request_body"]`` (a Struct;
  ``roles.requires(role, body=Struct)`` sets it, ``request_body=Struct`` on a
  public route that reads a body);
- the media types of its 200 answer when it sends something else than JSON
  (the handler's ``opt["media_types"]``, e.g. ``media_types=["text/csv", ...]``);
- the error answers it can give (400, 401/403 when it needs a key, 404, 409,
  413, 429, 500) as ``application/problem+json`` with the ``Problem`` schema,
  in place of the framework's own 400 shape, which we never send.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

from foss_registry.api.errors import PROBLEM_JSON
from foss_registry.api.v1 import schemas

_DESCRIPTIONS = {
    400: "Invalid input (parameters or body); `errors` names the fields.",
    401: "No API key was sent (X-API-Key).",
    403: "The API key is invalid, expired, revoked, or lacks the role.",
    404: "Not found.",
    409: "Already exists.",
    413: "The body is larger than the limit.",
    429: "Rate limited; see Retry-After and the RateLimit-* headers.",
    500: "Unexpected server error (logged).",
}
_WRITES = {"post", "put", "patch", "delete"}


def _schema_path(path: str) -> str:
    # Litestar route paths keep converters ({name:path}); the document does not.
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def _handler_opts(app: Any, name: str) -> dict[tuple[str, str], Any]:
    found = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            value = handler.opt.get(name)
            if value is not None:
                for method in handler.http_methods:
                    found[(method.lower(), _schema_path(route.path))] = value
    return found


def request_bodies(app: Any) -> dict[tuple[str, str], type]:
    """Every documented request body: the handlers' ``request_body`` opt."""
    return _handler_opts(app, "request_body")


def complete_document(document: dict[str, Any], app: Any) -> dict[str, Any]:
    """Return the document with request bodies and problem responses added."""
    bodies = request_bodies(app)
    media_types = _handler_opts(app, "media_types")
    _, components = msgspec.json.schema_components(
        [schemas.Problem, *bodies.values()], ref_template="#/components/schemas/{name}"
    )
    document.setdefault("components", {}).setdefault("schemas", {}).update(components)
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in document.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method not in _WRITES | {"get", "head"}:
                continue
            body = bodies.get((method, path))
            if body is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{body.__name__}"}
                        }
                    },
                }
            ok = operation.get("responses", {}).get("200")
            if (method, path) in media_types and ok is not None:
                ok["content"] = {
                    media_type: {
                        "schema": {"type": "object" if media_type.endswith("json") else "string"}
                    }
                    for media_type in media_types[(method, path)]
                }
            statuses = {400, 429, 500}
            if operation.get("security"):
                statuses |= {401, 403}
            if "{" in path or method in _WRITES:
                statuses.add(404)
            if method == "post":
                statuses.add(409)
            if body is not None:
                statuses.add(413)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses[str(status)] = {
                    "description": _DESCRIPTIONS[status],
                    "content": copy.deepcopy(problem),
                }
    return document


class ApiDocumentPlugin(JsonRenderPlugin):
    """Serves the OpenAPI document as JSON, completed by :func:`complete_document` once."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """Render the completed document (built on the first request, then reused)."""
        if self._rendered is None:
            document = complete_document(copy.deepcopy(openapi_schema), request.app)
            self._rendered = self.render_json(request, document)
        return self._rendered
