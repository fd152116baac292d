"""Rendering pages: one Jinja2 environment with autoescaping on, and the page's headers.

Every HTML page carries a Content-Security-Policy that lets scripts, styles,
images and requests come from the server's own origin only (no inline script,
no inline style), so nothing a submitter typed can run, even if it were not
escaped.
"""

from __future__ import annotations

import html
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import MediaType, Response
from markupsafe import Markup

from foss_registry import __version__
from foss_registry.db import utcnow
from foss_registry.packages.records import PackageSummary

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


@lru_cache(maxsize=16384)
def package_url(ecosystem: str, name: str, version: str | None = None) -> str:
    """The page of a package (of one version when given; cached: lists repeat them)."""
    path = f"/packages/{quote(ecosystem, safe='')}/{quote(name, safe='/@:')}"
    return f"{path}?{urlencode({'version': version})}" if version else path


def catalogue_rows(versions: list[PackageSummary]) -> Markup:
    """The catalogue's table rows, escaped, in one pass (a template loop cost as much as the
    search itself)."""
    rows = []
    for p in versions:
        url = html.escape(package_url(p.ecosystem, p.name, p.version))
        status = html.escape(p.status)
        rows.append(
            f'<tr><td><a href="{url}">{html.escape(p.name)}</a></td>'
            f'<td class="mono">{html.escape(p.version)}</td>'
            f'<td class="wide">{html.escape(p.ecosystem)}</td>'
            f'<td><span class="badge {status}">{status}</span></td>'
            f'<td class="mono wide">{html.escape(p.license or "—")}</td></tr>'
        )
    return Markup("".join(rows))


def age(value: datetime | str | None, now: datetime | None = None) -> str:
    """How long ago, in words: "3 days", "5 hours", "just now"."""
    if value is None:
        return "never"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    seconds = ((now or utcnow()) - value).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "less than a minute"


def when(value: datetime | str | None) -> str:
    """A timestamp as people read it: 2026-12-06 03:41 UTC."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("T", " ")[:16] + " UTC"
    return value.strftime("%Y-%m-%d %H:%M UTC")


@cache
def environment() -> Environment:
    """The templates' environment (built once per process)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(package_url=package_url, version=__version__)
    env.filters.update(age=age, when=when)
    return env


def render(template: str, context: dict[str, Any], *, status: int = 200) -> Response[str]:
    """Render a template into an HTML response with the pages' headers."""
    html = environment().get_template(template).render(context)
    return Response(html, status_code=status, media_type=MediaType.HTML, headers=PAGE_HEADERS)
