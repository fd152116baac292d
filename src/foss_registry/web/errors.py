"""Errors outside ``/api/`` answered as HTML pages with their status.

The API keeps RFC 9457 problem details; a browser asking for a page that does
not exist, or hitting an error on one, gets a page saying so in words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException

from foss_registry.errors import DomainError
from foss_registry.web.render import render

Handler = Callable[[Request[Any, Any, Any], Any], Response[Any]]
#: Routes that are not pages keep the API's error format.
_MACHINE_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics")


def _is_page(request: Request[Any, Any, Any]) -> bool:
    return not request.url.path.startswith(_MACHINE_PREFIXES)


def _page(status: int, title: str, detail: str) -> Response[Any]:
    from foss_registry.web.session import Viewer

    return render(
        "error.html",
        {"viewer": Viewer(), "path": "", "title": title, "detail": detail},
        status=status,
    )


def for_pages(api_handler: Handler) -> Handler:
    """Wrap one of the API's exception handlers: pages answer in HTML, the API as before."""

    def handle(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
        if not _is_page(request):
            return api_handler(request, exc)
        if isinstance(exc, DomainError):
            return _page(exc.status, exc.title, exc.detail)
        if isinstance(exc, HTTPException):
            status = exc.status_code
            if status == 404:
                return _page(404, "Not found", f"There is no page at {request.url.path}.")
            if status == 405:
                return _page(405, "Not allowed", f"{request.method} is not allowed here.")
            return _page(status, "Error", str(exc.detail or "The request could not be served."))
        api_handler(request, exc)  # logs the error
        return _page(
            500,
            "Something went wrong",
            "The server hit an unexpected error; it has been logged. Try again or tell the admins.",
        )

    return handle
