"""The ASGI application factory: routes, error handling, OpenAPI and docs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from anyio import CapacityLimiter, to_thread
from litestar import Litestar, MediaType, Request, Router, get
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy import Engine, text

from foss_registry import __version__, storage
from foss_registry.api import errors
from foss_registry.api.deps import AppContext, context, run_db
from foss_registry.api.docs import docs_asset, docs_page
from foss_registry.api.metrics import metrics_endpoint
from foss_registry.api.middleware import ServedApp, cors_config
from foss_registry.api.openapi import ApiDocumentPlugin
from foss_registry.api.params import strict_integers
from foss_registry.api.postgres_reads import PostgresRecords
from foss_registry.api.ratelimit import raise_refusal
from foss_registry.api.record_cache import RecordCache
from foss_registry.api.v1 import (
    blocked,
    check,
    enrich,
    export,
    licenses,
    packages,
    reviews,
    rules,
    scans,
    submissions,
    tokens,
    triage,
    vulndb,
    webhooks,
)
from foss_registry.auth.service import parse_static_tokens
from foss_registry.config import Settings
from foss_registry.db import make_engine
from foss_registry.errors import DomainError
from foss_registry.jobs import queue

log = logging.getLogger("foss_registry.api")

@get("/healthz", include_in_schema=False, media_type=MediaType.JSON)
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False, media_type=MediaType.JSON)
async def readyz(request: Request[Any, Any, Any]) -> Any:
    """The database is reachable, its schema current, and (when expected) a job worker alive."""
    settings = context(request).settings
    engine = context(request).engine

    def check() -> dict[str, Any]:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            workers = queue.worker_status(conn, settings.worker_stale_seconds)
        return {
            "database": "ok",
            "migrations_current": storage.is_current(engine),
            "workers": workers | {"required": settings.ready_requires_worker},
        }

    try:
        result = await run_db(request, check)
    except Exception as exc:  # the point of this route is to report, not raise
        log.warning("readiness check failed: %s", type(exc).__name__)
        return errors.problem_response(503, "The database cannot be reached.", "unavailable")
    if not result["migrations_current"]:
        return errors.problem_response(
            503, "The database schema is not current; run `foss db upgrade`.", "unavailable"
        )
    if settings.ready_requires_worker and not result["workers"]["recent"]:
        return errors.problem_response(
            503,
            f"No job worker has reported in the last {settings.worker_stale_seconds:g} seconds; "
            "start `foss worker`.",
            "unavailable",
        )
    return {"status": "ready"} | result


async def _close_index(app: Litestar) -> None:
    index = getattr(app.state, "package_index", None)
    if index is not None:
        await index.aclose()


async def _close_record_reads(app: Litestar) -> None:
    reads = app.state.ctx.postgres_records
    if reads is not None:
        await reads.aclose()
    fast_reads = getattr(app.state, "fast_reads", None)
    if fast_reads is not None:
        await to_thread.run_sync(fast_reads.close)


def build_app(
    settings: Settings,
    engine: Engine | None = None,
    *,
    pages: Sequence[Any] = (),
    answer_errors: Callable[[Any], Any] = lambda handler: handler,
) -> ServedApp:
    """Build the ASGI app: the HTTP edge (:class:`~foss_registry.api.middleware.ServedApp`)
    around the Litestar app of the API's routes and ``pages`` (route handlers).

    ``answer_errors`` wraps each of the API's exception handlers (the pages answer
    their errors as HTML). :func:`foss_registry.wiring.create_app` builds the
    whole app; the API does not import the pages.
    """
    engine = engine or make_engine(settings.database_url)
    ctx = AppContext(
        settings=settings,
        engine=engine,
        static_tokens=parse_static_tokens(settings.api_tokens),
        limiter=CapacityLimiter(settings.db_threads),
        record_cache=RecordCache(str(engine.url.database))
        if engine.dialect.name == "sqlite"
        else None,
        postgres_records=PostgresRecords.for_url(engine.url, pool_size=settings.db_threads)
        if engine.dialect.name == "postgresql"
        else None,
    )
    v1 = Router(
        path="/api/v1",
        route_handlers=[
            packages.list_packages,
            packages.get_package,
            packages.submit,
            submissions.submit_many,
            reviews.decide,
            reviews.list_reviews,
            scans.get_scan,
            check.check,
            export.export,
            tokens.create_token,
            tokens.list_tokens,
            tokens.revoke_token,
            vulndb.vulndb_status,
            vulndb.failed_jobs,
            blocked.blocked,
            enrich.enrich,
            licenses.list_all,
            licenses.compatibility,
            licenses.show,
            licenses.show_policy,
            licenses.replace_policy,
            licenses.reset_policy,
            rules.create_rule,
            rules.list_rules,
            rules.end_rule,
            triage.create_triage,
            triage.list_triage,
            triage.end_triage,
            triage.export_openvex,
            webhooks.create_webhook,
            webhooks.list_webhooks,
            webhooks.get_webhook,
            webhooks.delete_webhook,
            webhooks.list_deliveries,
        ],
    )
    openapi = OpenAPIConfig(
        title="FOSS Registry",
        version=__version__,
        # Mounted on the document itself so that no catch-all sits under /api/v1.
        path="/api/v1/openapi.json",
        render_plugins=[ApiDocumentPlugin(path="/")],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(
                    type="apiKey", name="X-API-Key", security_scheme_in="header"
                )
            }
        ),
        description=(
            "Submit open-source package versions for review, read scans and license facts. "
            "Reads are public; writes need an `X-API-Key`. Errors are RFC 9457 problem details."
        ),
    )
    app = Litestar(
        route_handlers=[
            v1,
            healthz,
            readyz,
            metrics_endpoint,
            docs_page,
            docs_asset,
            *pages,
        ],
        # Under /api/ errors are problem details; the web pages answer them as HTML pages.
        exception_handlers={
            DomainError: answer_errors(errors.handle_domain_error),
            HTTPException: answer_errors(errors.handle_http_exception),
            Exception: answer_errors(errors.handle_unexpected),
        },
        openapi_config=openapi,
        request_max_body_size=settings.max_body_bytes,
        middleware=[raise_refusal, strict_integers],
        cors_config=cors_config(settings),
        # Logging is set up once per process (foss_registry.logs), not by the framework.
        logging_config=None,
        debug=False,
        on_shutdown=[_close_index, _close_record_reads],
    )
    app.state.ctx = ctx
    return ServedApp(app, settings)
