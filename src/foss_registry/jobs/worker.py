"""A job worker: claims jobs, runs their handler, records the outcome.

The same worker runs inside ``foss serve`` (a background thread) and as a
``foss worker`` process. It runs the job kinds and the periodic work it is
given (:mod:`foss_registry.wiring` says which exist); each handler runs in
one write transaction that also marks the job done, so a job's effects and
its completion commit together.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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

#: Work the worker does between jobs at most every so many seconds (the outbox relay).
Periodic = Callable[[Engine], None]
#: A busy worker still records its heartbeat at least this often (between jobs).
HEARTBEAT_SECONDS = 10.0


class _LeaseLost(Exception):
    """The job was taken over by another worker after our lease expired."""


def _observe(kind: str, outcome: str, seconds: float) -> None:
    # Imported here: prometheus-client must be first imported after `foss serve`
    # has chosen the multi-process directory.
    from foss_registry import metrics

    metrics.JOB_DURATION.labels(kind, outcome).observe(seconds)
#: What a job kind leaves behind when its job is parked as failed: ``(conn, payload,
#: error, attempts)``, in a transaction of its own.
Parked = Callable[[Connection, dict[str, Any], str, int], None]


@dataclass(frozen=True)
class JobKind:
    """What the worker does for one kind of job: a handler, an optional preparer and parked hook.

    The preparer runs outside any transaction, so that minutes of work do not
    hold the database's write lock; the handler then gets its results.
    """

    handler: Handler
    prepare: Preparer | None = None
    parked: Parked | None = None


class Worker:
    """Runs jobs from the queue until stopped."""

    def __init__(
        self,
        engine: Engine,
        kinds: Mapping[str, JobKind],
        *,
        periodic: Mapping[str, tuple[float, Periodic]] | None = None,
        lease_seconds: int = 300,
        poll_seconds: float = 0.5,
        worker_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.stop_event = threading.Event()
        self._kinds = dict(kinds)
        #: Work run between jobs: name to (at most every so many seconds, task).
        self._periodic = dict(periodic or {})
        #: The job being run right now (None between jobs), for :meth:`abandon`.
        self.current: queue.Job | None = None
        self._last_run: dict[str, float] = {}

    def tick(self, *, force: bool = False) -> None:
        """Run the periodic work that is due (all of it when ``force``)."""
        now = time.monotonic()
        for name, (every, task) in self._periodic.items():
            if not force and now - self._last_run.get(name, -every) < every:
                continue
            self._last_run[name] = now
            try:
                task(self.engine)
            except Exception:
                log.exception("periodic task %s failed", name)

    def run_one(self, *, force_tick: bool = False) -> bool:
        """Run due periodic work, then claim and run one job; False when there was no job."""
        self.tick(force=force_tick)
        with write_transaction(self.engine) as conn:
            job = queue.claim(conn, self.worker_id, self.lease_seconds)
        if job is None:
            return False
        self.current = job
        started = time.perf_counter()
        outcome = "done"
        try:
            self._run(job)
        except _LeaseLost:
            outcome = "lease_lost"
            log.warning("job %s (%s): lease lost to another worker; rolled back", job.id, job.kind)
        except Exception as exc:
            outcome = self._record_failure(job, exc)
        finally:
            self.current = None
            _observe(job.kind, outcome, time.perf_counter() - started)
        return True

    def _run(self, job: queue.Job) -> None:
        kind = self._kinds.get(job.kind)
        if kind is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        payload = job.payload
        if kind.prepare is not None:
            payload = payload | kind.prepare(self.engine, payload)
        with write_transaction(self.engine) as conn:
            kind.handler(conn, payload)
            if not queue.complete(conn, job, self.worker_id):
                # Our lease expired and another worker took the job: undo our
                # effects so that the job's work is done exactly once.
                raise _LeaseLost()

    def _record_failure(self, job: queue.Job, exc: Exception) -> str:
        log.warning("job %s (%s) failed on attempt %s: %s", job.id, job.kind, job.attempts, exc)
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        with write_transaction(self.engine) as conn:
            status = queue.fail(conn, job, self.worker_id, detail)
        if status == "failed":
            log.error(
                "job %s (%s) parked as failed after %s attempts", job.id, job.kind, job.attempts
            )
            kind = self._kinds.get(job.kind)
            parked = kind.parked if kind is not None else None
            if parked is not None:
                try:
                    with write_transaction(self.engine) as conn:
                        parked(conn, job.payload, detail, job.attempts)
                except Exception:
                    log.exception("job %s (%s): recording its failure failed", job.id, job.kind)
            return "failed"
        return "retry"

    def abandon(self) -> None:
        """Give the job in hand back to the queue, for a shutdown that cannot wait for it."""
        job = self.current
        if job is not None:
            with write_transaction(self.engine) as conn:
                queue.release(conn, job, self.worker_id)
            log.warning("job %s (%s) released unfinished for another worker", job.id, job.kind)

    def run_until_idle(self, max_jobs: int | None = None) -> int:
        """Run jobs until the queue is empty (tests, one-shot commands); return the count."""
        done = 0
        while (max_jobs is None or done < max_jobs) and self.run_one(force_tick=True):
            done += 1
        return done

    def run_forever(self) -> None:
        """Run jobs until :meth:`stop` is called, polling when the queue is empty."""
        log.info("job worker %s started", self.worker_id)
        while not self.stop_event.is_set():
            try:
                with write_transaction(self.engine) as conn:
                    queue.heartbeat(conn, self.worker_id)
                beat = time.monotonic()
                while not self.stop_event.is_set() and self.run_one():
                    # A long queue must not make a busy worker look dead.
                    if time.monotonic() - beat > HEARTBEAT_SECONDS:
                        with write_transaction(self.engine) as conn:
                            queue.heartbeat(conn, self.worker_id)
                        beat = time.monotonic()
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
