"""A job worker: claims jobs, runs their handler, records the outcome.

The same worker runs inside ``foss serve`` (a background thread) and as a
``foss worker`` process. Handlers are registered per job kind; each runs in
one write transaction that also marks the job done, so a job's effects and
its completion commit together.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from foss_registry.db import write_transaction
from foss_registry.jobs import queue

log = logging.getLogger("foss_registry.jobs")

#: A job handler: does the work in the given transaction.
Handler = Callable[[Connection, dict[str, Any]], None]
#: Slow work of a job done before its transaction (an external scanner); returns
#: values added to the payload the handler receives.
Preparer = Callable[[Engine, dict[str, Any]], dict[str, Any]]

_HANDLERS: dict[str, Handler] = {}
_PREPARERS: dict[str, Preparer] = {}


def register(kind: str, *, prepare: Preparer | None = None) -> Callable[[Handler], Handler]:
    """Register the handler of one job kind (a decorator), with an optional preparer.

    The preparer runs outside any transaction, so that minutes of work do not
    hold the database's write lock; the handler then gets its results.
    """

    def wrap(handler: Handler) -> Handler:
        _HANDLERS[kind] = handler
        if prepare is not None:
            _PREPARERS[kind] = prepare
        return handler

    return wrap


def handlers() -> dict[str, Handler]:
    """Return the registered handlers, importing the modules that define them."""
    # Importing registers the handlers; done lazily to keep import order simple.
    from foss_registry.policy import service as _policy_jobs  # noqa: F401
    from foss_registry.scans import jobs as _scan_jobs  # noqa: F401

    return _HANDLERS


class Worker:
    """Runs jobs from the queue until stopped."""

    def __init__(
        self,
        engine: Engine,
        *,
        lease_seconds: int = 300,
        poll_seconds: float = 0.5,
        worker_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.stop_event = threading.Event()
        self._handlers = handlers()

    def run_one(self) -> bool:
        """Claim and run one job; False when the queue had nothing to do."""
        with write_transaction(self.engine) as conn:
            job = queue.claim(conn, self.worker_id, self.lease_seconds)
        if job is None:
            return False
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            payload = job.payload
            prepare = _PREPARERS.get(job.kind)
            if prepare is not None:
                payload = payload | prepare(self.engine, payload)
            with write_transaction(self.engine) as conn:
                handler(conn, payload)
                queue.complete(conn, job, self.worker_id)
        except Exception as exc:
            log.warning("job %s (%s) failed on attempt %s: %s", job.id, job.kind, job.attempts, exc)
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            with write_transaction(self.engine) as conn:
                status = queue.fail(conn, job, self.worker_id, detail)
            if status == "failed":
                log.error(
                    "job %s (%s) parked as failed after %s attempts", job.id, job.kind, job.attempts
                )
        return True

    def run_until_idle(self, max_jobs: int | None = None) -> int:
        """Run jobs until the queue is empty (tests, one-shot commands); return the count."""
        done = 0
        while (max_jobs is None or done < max_jobs) and self.run_one():
            done += 1
        return done

    def run_forever(self) -> None:
        """Run jobs until :meth:`stop` is called, polling when the queue is empty."""
        log.info("job worker %s started", self.worker_id)
        while not self.stop_event.is_set():
            try:
                with write_transaction(self.engine) as conn:
                    queue.heartbeat(conn, self.worker_id)
                while not self.stop_event.is_set() and self.run_one():
                    pass
            except Exception:
                log.exception("job worker %s hit an error; retrying", self.worker_id)
            self.stop_event.wait(self.poll_seconds)
        log.info("job worker %s stopped", self.worker_id)

    def stop(self) -> None:
        """Ask the worker to stop after the job in hand."""
        self.stop_event.set()

    def start_thread(self) -> threading.Thread:
        """Run the worker in a daemon thread of this process and return the thread."""
        thread = threading.Thread(target=self.run_forever, name="foss-job-worker", daemon=True)
        thread.start()
        return thread
