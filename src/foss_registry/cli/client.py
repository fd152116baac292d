"""The HTTP client of the ``foss`` commands that talk to a registry (httpx, REST API only).

The base URL comes from ``--api-url``, else ``FOSS_API_URL``, else
:data:`DEFAULT_API_URL`; the token from ``--token``, else
``FOSS_API_TOKEN``, sent as ``X-API-Key``. Nothing here touches the database,
so the commands work against any deployment.

Failures end the command with one line on stderr and exit code 3: a server
that cannot be reached, or an error answer (shown as its ``detail`` sentence).
Callers that handle some answers themselves (``foss check --submit-missing``
treats a 409 as fine) catch :class:`ApiError` instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import httpx
import typer
from rich.markup import escape

from foss_registry import __version__
from foss_registry.cli.common import EXIT_SERVER, EXIT_USAGE, fail

DEFAULT_API_URL = "http://localhost:8000/api/v1"
#: Seconds to wait for an answer; a 5,000-dependency check takes well under one.
TIMEOUT = 60.0
#: Longest ``Retry-After`` a command waits through before giving up on a 429.
MAX_RETRY_WAIT = 60.0

# Options shared by every client command, declared once.
ApiUrlOption = Annotated[
    str,
    typer.Option(
        "--api-url",
        envvar="FOSS_API_URL",
        help="Registry API base URL (FOSS_API_URL).",
        rich_help_panel="Connection",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="FOSS_API_TOKEN",
        help="API token sent as X-API-Key (FOSS_API_TOKEN).",
        show_default=False,
        rich_help_panel="Connection",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON answer instead of a table.")
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print nothing but errors; the exit code tells.")
]


class ApiError(Exception):
    """The server answered an error; ``detail`` is its sentence for a person."""

    def __init__(self, status: int, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code


class Unreachable(Exception):
    """The server could not be reached, or answered something that is not the API."""


def _problem_detail(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        code = body.get("code")
        return body["detail"], code if isinstance(code, str) else None
    reason = response.reason_phrase or "error"
    return (
        f"the server answered {response.status_code} {reason}, not in the API's format; "
        "FOSS_API_URL should be the API's base URL, ending in /api/v1"
    ), None


class Client:
    """A connection to one registry's API v1."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.token = token.strip() if token and token.strip() else None
        #: How many times a 429 is retried after its ``Retry-After``.
        self.rate_limit_retries = 1
        #: Called with the seconds about to be waited for a 429's ``Retry-After``.
        self.on_rate_limit: Callable[[float], None] | None = None
        self._http = httpx.Client(
            timeout=timeout,
            headers={
                "User-Agent": f"foss-registry-cli/{__version__}",
                "Accept": "application/json",
            },
        )

    def close(self) -> None:
        """Close the underlying connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        send_token: bool = False,
    ) -> httpx.Response:
        """Send a request and return the successful response.

        Raises ApiError for an error answer and Unreachable when no answer came.
        A 429 is retried after its ``Retry-After`` (at most a minute), once unless
        ``rate_limit_retries`` says otherwise; ``on_rate_limit`` hears of each wait.
        """
        headers = {"X-API-Key": self.token} if send_token and self.token else {}
        query = {k: v for k, v in (params or {}).items() if v is not None}
        url = self.base_url + path
        for attempt in range(self.rate_limit_retries + 1):
            try:
                response = self._http.request(method, url, params=query, json=json, headers=headers)
            except httpx.TimeoutException:
                raise Unreachable(
                    f"the registry at {self.base_url} did not answer within {TIMEOUT:.0f} s"
                ) from None
            except httpx.HTTPError as exc:
                raise Unreachable(
                    f"cannot reach the registry at {self.base_url}: {_reason(exc)}"
                ) from None
            if response.status_code == 429 and attempt < self.rate_limit_retries:
                wait = _retry_after(response)
                if wait is not None:
                    if self.on_rate_limit is not None:
                        self.on_rate_limit(wait)
                    time.sleep(wait)
                    continue
            break
        if response.is_success:
            return response
        detail, code = _problem_detail(response)
        raise ApiError(response.status_code, detail, code)

    def get(self, path: str, *, send_token: bool = False, **params: Any) -> Any:
        """GET a JSON document (with the token when ``send_token``: reads that need a key)."""
        return self._json(self.request("GET", path, params=params, send_token=send_token))

    def delete(self, path: str) -> Any:
        """DELETE with the token and return the JSON answer."""
        return self._json(self.request("DELETE", path, send_token=True))

    def get_raw(self, path: str, **params: Any) -> httpx.Response:
        """GET a document that may not be JSON (exports)."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, *, send_token: bool = True) -> Any:
        """POST a JSON body and return the JSON answer."""
        return self._json(self.request("POST", path, json=body, send_token=send_token))

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise Unreachable(
                f"the server at {self.base_url} did not answer JSON; FOSS_API_URL should be "
                "the API's base URL, ending in /api/v1"
            ) from None


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "refused" in text:
            return "connection refused (is the server running?)"
        if "name or service not known" in text or "nodename nor servname" in text:
            return "unknown host name"
        return str(exc) or "cannot connect"
    return str(exc) or type(exc).__name__


def _retry_after(response: httpx.Response) -> float | None:
    try:
        wait = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return wait if 0 <= wait <= MAX_RETRY_WAIT else None


def path_of(name: str) -> str:
    """Return a package name as a URL path segment (``/`` kept: names may contain it)."""
    return quote(name, safe="/@:")


def connect(api_url: str | None, token: str | None) -> Client:
    """Return a client for the given URL and token, or exit 2 for a URL that is not http(s)."""
    url = (api_url or DEFAULT_API_URL).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise fail(
            f"the API URL {escape(url)!r} is not an http:// or https:// URL "
            f"(set --api-url or FOSS_API_URL, e.g. {DEFAULT_API_URL})",
            EXIT_USAGE,
        )
    return Client(url, token)


@contextmanager
def api_errors() -> Iterator[None]:
    """End the command with the error's one line: exit code 2 when the server refused what
    the user gave as invalid (400, a usage error), else 3."""
    try:
        yield
    except ApiError as exc:
        raise fail(escape(exc.detail), EXIT_USAGE if exc.status == 400 else EXIT_SERVER) from None
    except Unreachable as exc:
        raise fail(escape(str(exc)), EXIT_SERVER) from None
