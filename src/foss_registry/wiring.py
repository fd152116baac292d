"""The composition root: the served app (API and reviewer pages), the job kinds, the worker.

Nothing registers itself when imported. Server processes build the app here
(:func:`asgi_app`, Granian's factory; tests call :func:`create_app`), and
``foss serve`` and ``foss worker`` build their worker here, from
:data:`JOB_KINDS`. A new job kind is a function in the service that owns the
work, one ``queue.enqueue`` where it is caused, and one line below.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine

from foss_registry.config import Settings, get_settings
from foss_registry.enrichment import service as enrichment
from foss_registry.jobs.worker import JobKind, PeriodicTask, Worker
from foss_registry.policy import service as policy
from foss_registry.scans import jobs as scan_jobs
from foss_registry.scans import service as scans
from foss_registry.scans.service import SCAN_BATCH_JOB, SCAN_BATCH_SIZE, SCAN_JOB
from foss_registry.triage import jobs as triage_jobs
from foss_registry.webhooks import delivery
from foss_registry.webhooks import jobs as webhook_jobs

if TYPE_CHECKING:
    from foss_registry.api.middleware import ServedApp


def run_scan(conn: Connection, payload: dict[str, Any]) -> None:
    """Scan one version; once its scan and license evaluation are done, the policy decides."""
    version_id = scan_jobs.run_scan(conn, payload)
    if version_id is not None:
        policy.apply_policy(conn, version_id)


def run_scans(conn: Connection, payloads: Sequence[dict[str, Any]]) -> None:
    """Scan the versions of a batch of ``scan`` jobs at once; the policy then decides each."""
    _apply_policy(conn, scan_jobs.run_scans(conn, payloads))


def run_scan_batch(conn: Connection, payload: dict[str, Any]) -> None:
    """Complete a batch of re-scans; the policy then looks at each re-scanned version.

    It flags an approved version that a new advisory now fails, and decides
    those no person has decided.
    """
    _apply_policy(conn, scan_jobs.run_scan_batch(conn, payload))


def _apply_policy(conn: Connection, version_ids: Sequence[int]) -> None:
    if version_ids:
        policy.apply_policy_many(conn, version_ids)


def run_enrichment(conn: Connection, payload: dict[str, Any]) -> None:
    """Store what the upstream said and the signals, then let the policy decide."""
    run_enrichments(conn, [payload])


def run_enrichments(conn: Connection, payloads: Sequence[dict[str, Any]]) -> None:
    """Store many enrichments, then let the policy decide their versions, all at once.

    A version named twice is stored and decided twice, in order, as one by one.
    """
    in_force = policy.current_policy(conn)
    for run in enrichment.distinct_runs(payloads, key=lambda p: int(p["version_id"])):
        stored = enrichment.complete_enrichments(conn, run, in_force.signals)
        policy.apply_policy_many(conn, stored, in_force)


def scan_job_parked(conn: Connection, payload: dict[str, Any], error: str, attempts: int) -> None:
    """A scan job given up: its scans still pending end in ``error``; the policy looks again.

    It never approves a version whose scan ended in an error.
    """
    scan_ids = [int(i) for i in payload.get("scan_ids", [payload.get("scan_id")]) if i is not None]
    _apply_policy(conn, scans.fail_scans(conn, scan_ids, error=error, attempts=attempts))


#: Enrichments claimed together: each asks its upstream in turn (the worker keeps
#: the batch's leases while they take long), then all are stored in one transaction.
ENRICH_BATCH_SIZE = 16

#: Every job kind the worker runs, by the name stored in the ``jobs`` table. A worker
#: claims up to ``batch`` jobs of a kind at once and handles them in one transaction
#: (a burst of submissions is scanned 50 at a time, sharing the reads of advisories).
#: Webhook deliveries are enqueued with priority ``queue.PROMPT``, so a
#: due one is claimed before a backlog of scans.
JOB_KINDS: dict[str, JobKind] = {
    SCAN_JOB: JobKind(
        run_scan,
        prepare=scan_jobs.prepare_scan,
        parked=scan_job_parked,
        handle_many=run_scans,
        batch=SCAN_BATCH_SIZE,
    ),
    SCAN_BATCH_JOB: JobKind(run_scan_batch, parked=scan_job_parked),
    delivery.DELIVER_JOB: webhook_jobs.DELIVER,
    enrichment.ENRICH_JOB: JobKind(
        run_enrichment,
        prepare=enrichment.prepare_enrichment,
        handle_many=run_enrichments,
        batch=ENRICH_BATCH_SIZE,
    ),
    policy.REEVALUATE_JOB: JobKind(policy.reevaluate_all),
}


#: The work the worker does between batches, by name.
PERIODIC: dict[str, PeriodicTask] = {
    # Every event notifies the workers (on PostgreSQL): no need to wake for the clock.
    "webhook-relay": PeriodicTask(
        webhook_jobs.RELAY_EVERY_SECONDS, webhook_jobs.relay_outbox, clock=False
    ),
    "triage-expiry": PeriodicTask(triage_jobs.EXPIRY_EVERY_SECONDS, triage_jobs.expire_triage),
}


def new_worker(engine: Engine, **options: Any) -> Worker:
    """Return a job worker running :data:`JOB_KINDS` and :data:`PERIODIC`.

    ``options`` as :class:`~foss_registry.jobs.worker.Worker` takes them.
    """
    return Worker(engine, JOB_KINDS, periodic=PERIODIC, **options)


def create_app(settings: Settings, engine: Engine | None = None) -> ServedApp:
    """Build the served ASGI app for the given settings (and engine, for tests)."""
    # Imported here: a `foss worker` process needs the job kinds, not the web framework.
    from foss_registry.api.app import build_app
    from foss_registry.web import errors as page_errors
    from foss_registry.web import pages

    return build_app(
        settings,
        engine,
        pages=[*pages.ROUTES, pages.static_assets()],
        answer_errors=page_errors.for_pages,
    )


def asgi_app() -> ServedApp:
    """Granian's factory: the app from the environment's settings, once per server process."""
    from foss_registry.logs import setup_logging

    settings = get_settings()
    setup_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    # What start-up built lives as long as the process: keep the garbage
    # collector from walking it again on every full collection.
    gc.collect()
    gc.freeze()
    if settings.pin_cpu:
        from foss_registry import cpu_affinity

        cpu = cpu_affinity.claim_cpu(os.environ.get(cpu_affinity.CLAIMS_ENV))
        if cpu is not None:
            # At the first request: the HTTP server starts its own threads after this
            # factory, from this thread, and they must not inherit the CPU.
            app.at_first_request(lambda: cpu_affinity.keep_python_threads_on(cpu))
    return app
