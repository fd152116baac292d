"""The pages' routes: dashboard, catalogue, package, review queue, submission, sign-in.

Each handler reads who is looking (:mod:`foss_registry.web.session`), calls the
same services as the API, and renders a template. Forms that change state are
checked for the session's CSRF token first; a request without it is a 403 that
reads and writes nothing. Errors of the services are shown next to their field
in the services' own words.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from limits import parse
from limits.aio.strategies import FixedWindowRateLimiter
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from foss_registry.api.deps import context, run_db, run_write
from foss_registry.api.fast_reads import SQLiteThreadReaders
from foss_registry.api.ratelimit import storage_for
from foss_registry.auth import sessions
from foss_registry.db import read_connection
from foss_registry.ecosystems import NAMES as ECOSYSTEMS
from foss_registry.errors import DomainError, ForbiddenError, InvalidInputError, NotFoundError
from foss_registry.intake.service import submit_package
from foss_registry.packages import service as packages
from foss_registry.packages.models import STATUSES
from foss_registry.packages.records import PackageList, PackageRecord
from foss_registry.reviews import service as reviews
from foss_registry.reviews.records import QueueEntry
from foss_registry.web.chart import decisions_chart
from foss_registry.web.figures import cache_of
from foss_registry.web.render import STATIC, catalogue_rows, package_url, render
from foss_registry.web.session import Viewer, apply_cookie, csrf_valid, ensure_session, viewer_of
from foss_registry.web.views import package_view

PAGE_SIZE = 50
MAX_TEXT = 255

Req = Request[Any, Any, Any]


def _page(
    request: Req, viewer: Viewer, template: str, status: int = 200, **values: Any
) -> Response[Any]:
    response = render(
        template,
        {"viewer": viewer, "path": request.url.path, "ecosystems": ECOSYSTEMS, **values},
        status=status,
    )
    apply_cookie(request, response, viewer)
    started = request.scope.get("state", {}).get("started")
    if started is not None:
        # The time the server took for the page, from the request's arrival.
        elapsed = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed:.2f}"
    return response


def error_page(
    request: Req, viewer: Viewer | None, status: int, title: str, detail: str
) -> Response[Any]:
    """An error answered as an HTML page with its status."""
    return _page(
        request, viewer or Viewer(), "error.html", status=status, title=title, detail=detail
    )


def _redirect(request: Req, viewer: Viewer, to: str) -> Response[Any]:
    response: Response[Any] = Redirect(to, status_code=303)
    apply_cookie(request, response, viewer)
    return response


def _forbidden_csrf(request: Req, viewer: Viewer) -> Response[Any]:
    return error_page(
        request,
        viewer,
        403,
        "Form refused",
        "This form was not sent from a page of this site, or it has expired. "
        "Reload the page and send it again.",
    )


def _field_errors(exc: DomainError, default: str) -> dict[str, str]:
    """The error's sentence keyed by the field it concerns."""
    field = exc.errors[0].field if exc.errors else default
    return {field: exc.detail}


def _field(form: Any, key: str) -> str:
    """A form field's text ("" when absent or not text)."""
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] if value else None


@dataclass
class SubmissionForm:
    """The submission form's fields, in the shape the intake service reads."""

    name: str
    version: str
    ecosystem: str
    license: str | None
    description: str | None
    justification: str | None
    homepage: str | None = None
    repository: str | None = None


# --- dashboard ---------------------------------------------------------------------------


@get("/", include_in_schema=False)
async def dashboard(request: Req) -> Response[Any]:
    """Counts, the queue's size and age, open findings, the vulnerability data's age, a chart."""
    viewer = await viewer_of(request)
    figures = await cache_of(request).get(request)
    return _page(
        request,
        viewer,
        "dashboard.html",
        figures=figures,
        chart=decisions_chart(figures.decisions),
        statuses=STATUSES,
    )


# --- catalogue ---------------------------------------------------------------------------


def _int(value: str | None, default: int) -> int:
    # ASCII digits only, at most a million (a 20-digit page overflowed the database's integers).
    if not value or not (value.isascii() and value.isdigit()) or len(value) > 7:
        return default
    return max(1, int(value))


def _sqlite_readers(request: Req) -> SQLiteThreadReaders | None:
    """Per-thread read-only SQLite connections for the catalogue (None on PostgreSQL)."""
    ctx = context(request)
    if ctx.engine.dialect.name != "sqlite":
        return None
    state = request.app.state
    readers: SQLiteThreadReaders | None = getattr(state, "web_sqlite_readers", None)
    if readers is None:
        readers = state.web_sqlite_readers = SQLiteThreadReaders(str(ctx.engine.url.database))
    return readers


@get("/packages", include_in_schema=False)
async def catalogue(request: Req) -> Response[Any]:
    """Every version, searched as you type, filtered, 50 a page; the URL holds the query."""
    viewer = await viewer_of(request)
    q = request.query_params
    search = _text(q.get("search"))
    ecosystem = _text(q.get("ecosystem"), 32)
    status = _text(q.get("status"), 32)
    page = _int(q.get("page"), 1)
    engine = context(request).engine
    readers = _sqlite_readers(request)

    def work() -> PackageList:
        if readers is not None:
            # As the JSON list does on SQLite: a read-only connection kept per pool thread.
            params = {"search": search, "ecosystem": ecosystem, "status": status}
            return readers.list_page(params, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        with read_connection(engine) as conn:
            return packages.list_packages(
                conn,
                search=search,
                ecosystem=ecosystem,
                status=status,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )

    errors: dict[str, str] = {}
    result = PackageList(packages=[], total=0, limit=PAGE_SIZE, offset=0)
    try:
        result = await run_db(request, work)
    except InvalidInputError as exc:
        errors = _field_errors(exc, "search")
    query = {"search": search or "", "ecosystem": ecosystem or "", "status": status or ""}
    pages = max(1, -(-result.total // PAGE_SIZE))

    def page_link(n: int) -> str:
        return "/packages?" + urlencode(query | {"page": str(n)})

    # htmx asks for the results only; a history restore wants the whole page.
    partial = bool(request.headers.get("hx-request")) and not request.headers.get(
        "hx-history-restore-request"
    )
    response = _page(
        request,
        viewer,
        status=400 if errors else 200,
        query=query,
        result=result,
        rows=catalogue_rows(result.packages),
        page=page,
        pages=pages,
        prev_link=page_link(page - 1) if page > 1 else None,
        next_link=page_link(page + 1) if page < pages else None,
        errors=errors,
        statuses=STATUSES,
        template="catalogue_results.html" if partial else "catalogue.html",
    )
    response.headers["Vary"] = "HX-Request"
    return response


# --- one package -------------------------------------------------------------------------


async def _package_response(
    request: Req,
    viewer: Viewer,
    ecosystem: str,
    name: str,
    version: str | None,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
) -> Response[Any]:
    ctx = context(request)

    def work() -> Any:
        with read_connection(ctx.engine) as conn:
            return package_view(
                conn, ecosystem, name, version, stale_days=ctx.settings.vulndb_stale_days
            )

    try:
        view = await run_db(request, work)
    except NotFoundError as exc:
        return error_page(request, viewer, 404, "Not found", exc.detail)
    except InvalidInputError as exc:
        return error_page(request, viewer, 404, "Not found", exc.detail)
    if viewer.can("reviewer"):
        await ensure_session(request, viewer)
    return _page(
        request,
        viewer,
        "package.html",
        status=status,
        view=view,
        record=view.record,
        errors=errors or {},
        form=form or {},
    )


@get("/packages/{ecosystem:str}/{name:path}", include_in_schema=False)
async def package_page(
    request: Req, ecosystem: FromPath[str], name: FromPath[str]
) -> Response[Any]:
    """One package: the selected version (``?version=``, else the highest) and all it knows."""
    viewer = await viewer_of(request)
    version = _text(request.query_params.get("version"), 128)
    return await _package_response(request, viewer, ecosystem, name.lstrip("/"), version)


@post("/decide", include_in_schema=False, status_code=200)
async def decide(request: Req) -> Response[Any]:
    """Approve or reject from the package page's decision form (reviewers and admins)."""
    viewer = await viewer_of(request)
    form = await request.form()
    if not csrf_valid(viewer, form, request):
        return _forbidden_csrf(request, viewer)
    ecosystem = _text(form.get("ecosystem"), 32) or ""
    name = _text(form.get("name")) or ""
    version = _text(form.get("version"), 128) or ""
    if not viewer.can("reviewer"):
        return error_page(
            request, viewer, 403, "Not allowed", "Deciding needs a reviewer or admin API token."
        )
    decision = _text(form.get("decision"), 16) or ""
    comment = form.get("comment") if isinstance(form.get("comment"), str) else None
    acknowledged = form.get("acknowledge_findings") == "yes"
    principal = viewer.principal
    assert principal is not None

    def work(conn: Any) -> None:
        reviews.decide(
            conn,
            ecosystem=ecosystem,
            name=name,
            version=version,
            decision=decision,
            by=principal.name,
            comment=comment,
            acknowledge_findings=acknowledged,
        )

    try:
        await run_write(request, work)
    except NotFoundError as exc:
        return error_page(request, viewer, 404, "Not found", exc.detail)
    except DomainError as exc:
        errors = _field_errors(exc, "comment")
        if exc.code == "findings_not_acknowledged":
            # The service's sentence, with what to do on this page instead of the API's flag.
            what = exc.detail.split(" Approve with ", 1)[0]
            errors = {
                "acknowledge_findings": f"{what} Tick the box naming them to approve past "
                "them, or reject it."
            }
        return await _package_response(
            request,
            viewer,
            ecosystem,
            name,
            version,
            status=exc.status,
            errors=errors,
            form={"comment": comment or ""},
        )
    return _redirect(request, viewer, package_url(ecosystem, name, version))


# --- review queue ------------------------------------------------------------------------


@get("/reviews", include_in_schema=False)
async def queue(request: Req) -> Response[Any]:
    """Pending versions, oldest first; ``j``/``k`` move, Enter opens."""
    viewer = await viewer_of(request)
    ecosystem = _text(request.query_params.get("ecosystem"), 32)
    page = _int(request.query_params.get("page"), 1)
    engine = context(request).engine

    def work() -> list[QueueEntry]:
        with read_connection(engine) as conn:
            return reviews.pending_queue(
                conn, ecosystem=ecosystem, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
            )

    errors: dict[str, str] = {}
    entries: list[QueueEntry] = []
    try:
        entries = await run_db(request, work)
    except InvalidInputError as exc:
        errors = _field_errors(exc, "ecosystem")
    more = len(entries) > PAGE_SIZE
    query = {"ecosystem": ecosystem or ""}

    def page_link(n: int) -> str:
        return "/reviews?" + urlencode(query | {"page": str(n)})

    return _page(
        request,
        viewer,
        "queue.html",
        status=400 if errors else 200,
        entries=entries[:PAGE_SIZE],
        query=query,
        page=page,
        prev_link=page_link(page - 1) if page > 1 else None,
        next_link=page_link(page + 1) if more else None,
        errors=errors,
    )


# --- submission --------------------------------------------------------------------------


@get("/submit", include_in_schema=False)
async def submit_form(request: Req) -> Response[Any]:
    """The submission form, for any signed-in role; anonymous visitors sign in first."""
    viewer = await viewer_of(request)
    if not viewer.signed_in:
        return _redirect(request, viewer, "/login?" + urlencode({"next": "/submit"}))
    await ensure_session(request, viewer)
    return _page(request, viewer, "submit.html", form={}, errors={}, duplicate=None)


@post("/submit", include_in_schema=False, status_code=200)
async def submit(request: Req) -> Response[Any]:
    """Store the submission through the same intake as ``POST /api/v1/packages``."""
    viewer = await viewer_of(request)
    form = await request.form()
    if not csrf_valid(viewer, form, request):
        return _forbidden_csrf(request, viewer)
    if not viewer.signed_in or viewer.principal is None:
        return _redirect(request, viewer, "/login?" + urlencode({"next": "/submit"}))
    fields = {
        key: _field(form, key)
        for key in ("ecosystem", "name", "version", "license", "description", "justification")
    }
    body = SubmissionForm(
        name=fields["name"].strip(),
        version=fields["version"].strip(),
        ecosystem=fields["ecosystem"].strip(),
        license=fields["license"].strip() or None,
        description=fields["description"].strip() or None,
        justification=fields["justification"].strip() or None,
    )
    by = viewer.principal.name
    engine = context(request).engine
    try:
        record = await run_write(request, lambda conn: submit_package(conn, body, by))
    except DomainError as exc:
        duplicate = None
        if exc.code == "already_exists":

            def existing() -> PackageRecord:
                with read_connection(engine) as conn:
                    return packages.get_record(
                        conn, body.name, ecosystem=body.ecosystem, version=body.version
                    )

            duplicate = await run_db(request, existing)
        return _page(
            request,
            viewer,
            "submit.html",
            status=exc.status,
            form=fields,
            errors={} if duplicate else _field_errors(exc, "name"),
            duplicate=duplicate,
        )
    return _redirect(
        request, viewer, package_url(record.ecosystem, record.name, record.version)
    )


# --- signing in and out ------------------------------------------------------------------


def _next(value: Any) -> str:
    """A local path to go back to after signing in (never another site)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


@get("/login", include_in_schema=False)
async def login_form(request: Req) -> Response[Any]:
    """The sign-in form: one field, "API token"."""
    viewer = await viewer_of(request)
    next_path = _next(request.query_params.get("next"))
    if viewer.signed_in and viewer.auth_enabled:
        return _redirect(request, viewer, next_path)
    await ensure_session(request, viewer)
    return _page(request, viewer, "login.html", next=next_path, errors={})


class SignInLimiter:
    """Failed sign-ins counted per client address (in Redis when configured)."""

    def __init__(self, request: Req) -> None:
        settings = context(request).settings
        self.enabled = settings.rate_limits_enabled
        self.item = parse(settings.rate_limit_sign_in)
        self.limiter = FixedWindowRateLimiter(
            storage_for(settings.redis_url, settings.rate_limit_prefix + ":sign-in")
        )

    async def allowed(self, address: str) -> bool:
        """True when this address may try again."""
        return not self.enabled or await self.limiter.test(self.item, address)

    async def failed(self, address: str) -> None:
        """Count one failed attempt."""
        if self.enabled:
            await self.limiter.hit(self.item, address)


def _limiter(request: Req) -> SignInLimiter:
    state = request.app.state
    limiter: SignInLimiter | None = getattr(state, "web_sign_in_limiter", None)
    if limiter is None:
        limiter = state.web_sign_in_limiter = SignInLimiter(request)
    return limiter


@post("/login", include_in_schema=False, status_code=200)
async def login(request: Req) -> Response[Any]:
    """Check the API token, open a new session (a new id) and go back where the visitor was."""
    viewer = await viewer_of(request)
    form = await request.form()
    if not csrf_valid(viewer, form, request):
        return _forbidden_csrf(request, viewer)
    next_path = _next(form.get("next"))
    address = request.client.host if request.client else "unknown"
    limiter = _limiter(request)
    if not await limiter.allowed(address):
        response = _page(
            request,
            viewer,
            "login.html",
            status=429,
            next=next_path,
            errors={
                "token": "Too many failed sign-ins from your address; wait a minute and try again."
            },
        )
        response.headers["Retry-After"] = "60"
        return response
    token = _field(form, "token")
    if not token.strip():
        return _page(
            request,
            viewer,
            "login.html",
            status=400,
            next=next_path,
            errors={"token": "Enter an API token (it starts with foss_)."},
        )
    ctx = context(request)
    previous = viewer.session_secret
    try:
        secret, _session, _principal = await run_write(
            request,
            lambda conn: sessions.sign_in(conn, token, ctx.static_tokens, previous=previous),
        )
    except ForbiddenError as exc:
        await limiter.failed(address)
        return _page(
            request,
            viewer,
            "login.html",
            status=403,
            next=next_path,
            errors={"token": exc.detail.replace("API key", "API token")},
        )
    viewer.set_cookie = secret
    return _redirect(request, viewer, next_path)


@post("/logout", include_in_schema=False, status_code=200)
async def logout(request: Req) -> Response[Any]:
    """End the session ("Sign out")."""
    viewer = await viewer_of(request)
    form = await request.form()
    if not csrf_valid(viewer, form, request):
        return _forbidden_csrf(request, viewer)
    secret = viewer.session_secret
    if secret is not None:
        await run_write(request, lambda conn: sessions.sign_out(conn, secret))
    viewer.set_cookie = ""
    return _redirect(request, viewer, "/")


def static_assets() -> Any:
    """The pages' own assets: stylesheet, script, htmx and its license."""
    return create_static_files_router(
        path="/static",
        directories=[STATIC],
        include_in_schema=False,
        cache_control=None,
    )


ROUTES = [
    dashboard,
    catalogue,
    package_page,
    decide,
    queue,
    submit_form,
    submit,
    login_form,
    login,
    logout,
]
