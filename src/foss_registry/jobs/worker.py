"""A job worker: claims jobs in batches, runs their handlers, records the outcomes.

The same worker runs inside ``foss serve`` (a child process) and as a ``foss
worker`` process. It runs the job kinds and the periodic work it is given
(:mod:`foss_registry.wiring` says which exist). It claims up to a kind's
``batch`` jobs of one kind at once, runs their preparers (slow work, outside
any transaction), then their handlers in one write transaction that also marks
them done, so the jobs' effects and their completion commit together: a worker
killed in the middle of a batch stores nothing of it, and the jobs are claimed
again once their lease expires. A job that fails is undone alone (its own
savepoint) and retried or parked; the rest of its batch completes. When the
queue is empty the worker waits for a notification on PostgreSQL and polls on
SQLite (:mod:`foss_registry.jobs.wakeup`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from foss_registry.db import read_connection, write_transaction
from foss_registry.jobs import queue
from foss_registry.jobs.wakeup import Wakeup

log = logging.getLogger("foss_registry.jobs")

#: A job handler: does the work in the given transaction.
Handler = Callable[[Connection, dict[str, Any]], None]
#: A handler of many jobs of one kind at once, in one transaction (their payloads).
BatchHandler = Callable[[Connection, Sequence[dict[str, Any]]], None]
#: Slow work of a job done before its transaction (an external scanner); returns
#: values added to the payload the handler receives.
Preparer = Callable[[Engine, dict[str, Any]], dict[str, Any]]

#: Work the worker does between jobs at most every so many seconds (the outbox relay).
Periodic = Callable[[Engine], None]
#: A busy worker still records its heartbeat at least this often (between batches),
#: and an idle one wakes this often to record it.
HEARTBEAT_SECONDS = 10.0


class _LeaseLost(Exception):
    """A job of the batch was taken over by another worker after our lease expired."""


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
    """What the worker does for one kind of job: its handler, and how it is batched.

    The preparer runs outside any transaction, so that minutes of work do not
    hold the database's write lock; the handler then gets its results. Up to
    ``batch`` jobs of the kind are claimed together and handled in one
    transaction: by ``handle_many`` at once when it is given (the scans of a
    batch share one read of the advisories), else one by one.
    """

    handler: Handler
    prepare: Preparer | None = None
    parked: Parked | None = None
    handle_many: BatchHandler | None = None
    batch: int = 1


@dataclass(frozen=True)
class PeriodicTask:
    """Work the worker does between batches, at most every ``every`` seconds.

    ``clock``: an idle worker wakes for it when it is due. Work whose arrival
    notifies the workers itself (the outbox: each event does, on PostgreSQL)
    sets it False, so that an idle worker there sleeps until notified.
    """

    every: float
    run: Periodic
    clock: bool = True


class Worker:
    """Runs jobs from the queue until stopped."""

    def __init__(
        self,
        engine: Engine,
        kinds: Mapping[str, JobKind],
        *,
        periodic: Mapping[str, PeriodicTask] | None = None,
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
        self._batch = {name: kind.batch for name, kind in self._kinds.items() if kind.batch > 1}
        #: Work run between batches, by name.
        self._periodic = dict(periodic or {})
        #: The claimed jobs not finished yet (empty between batches), for :meth:`abandon`.
        self.held: list[queue.Job] = []
        self._last_run: dict[str, float] = {}
        self._wakeup: Wakeup | None = None

    def tick(self, *, force: bool = False) -> None:
        """Run the periodic work that is due (all of it when ``force``)."""
        now = time.monotonic()
        for name, task in self._periodic.items():
            if not force and now - self._last_run.get(name, -task.every) < task.every:
                continue
            self._last_run[name] = now
            try:
                task.run(self.engine)
            except Exception:
                log.exception("periodic task %s failed", name)

    def _seconds_to_next_tick(self) -> float | None:
        now = time.monotonic()
        waits = [
            self._last_run.get(name, -task.every) + task.every - now
            for name, task in self._periodic.items()
            if task.clock
        ]
        return max(0.0, min(waits)) if waits else None

    def run_batch(self, *, force_tick: bool = False) -> int:
        """Run due periodic work, then claim and run one batch; return its size (0: no job)."""
        self.tick(force=force_tick)
        with write_transaction(self.engine) as conn:
            claimed = queue.claim_batch(conn, self.worker_id, self.lease_seconds, self._batch)
        if not claimed:
            return 0
        self.held = list(claimed)
        started = time.perf_counter()
        outcomes: dict[int, str] = {}
        try:
            outcomes = self._run(claimed)
        finally:
            self.held = []
            each = (time.perf_counter() - started) / len(claimed)
            for job in claimed:
                _observe(job.kind, outcomes.get(job.id, "error"), each)
        return len(claimed)

    def _run(self, claimed: list[queue.Job]) -> dict[int, str]:
        """Run a batch of one kind; return each job's outcome (done, retry, failed, lease_lost)."""
        kind = self._kinds.get(claimed[0].kind)
        if kind is None:
            error = LookupError(f"no handler for job kind {claimed[0].kind!r}")
            return {job.id: self._record_failure(job, error) for job in claimed}
        outcomes: dict[int, str] = {}
        ready: list[tuple[queue.Job, dict[str, Any]]] = []
        renewed = time.monotonic()
        for n, job in enumerate(claimed):
            if job.id in outcomes:  # taken over while the batch was being prepared
                continue
            if kind.prepare is None:
                ready.append((job, job.payload))
                continue
            if time.monotonic() - renewed > self.lease_seconds / 3:
                # Slow preparers: keep the batch's leases, drop the jobs taken over.
                unfinished = [j for j, _ in ready] + claimed[n:]
                with write_transaction(self.engine) as conn:
                    kept = queue.renew(
                        conn, [j.id for j in unfinished], self.worker_id, self.lease_seconds
                    )
                renewed = time.monotonic()
                for lost in unfinished:
                    if lost.id not in kept and lost.id not in outcomes:
                        outcomes[lost.id] = self._lost(lost)
                ready = [(j, p) for j, p in ready if j.id in kept]
                if job.id not in kept:
                    continue
            try:
                ready.append((job, job.payload | kind.prepare(self.engine, job.payload)))
            except Exception as exc:
                outcomes[job.id] = self._record_failure(job, exc)
        failures: list[tuple[queue.Job, Exception]] = []
        if ready:
            try:
                failures = self._handle(kind, ready, outcomes)
            except Exception as error:
                # The transaction itself failed: nothing of the batch is stored.
                failures = [(job, error) for job, _ in ready if job.id not in outcomes]
        for job, problem in failures:
            outcomes[job.id] = self._record_failure(job, problem)
        return outcomes

    def _handle(
        self,
        kind: JobKind,
        ready: list[tuple[queue.Job, dict[str, Any]]],
        outcomes: dict[int, str],
    ) -> list[tuple[queue.Job, Exception]]:
        """Handle the prepared jobs and complete them in one transaction; return the failures."""
        failures: list[tuple[queue.Job, Exception]] = []
        with write_transaction(self.engine) as conn:
            # Renewing locks the rows until commit: no one can take them over meanwhile.
            held = queue.renew(conn, [j.id for j, _ in ready], self.worker_id, self.lease_seconds)
            for job, _ in ready:
                if job.id not in held:
                    outcomes[job.id] = self._lost(job)
            todo = [(job, payload) for job, payload in ready if job.id in held]
            done: list[int] = []
            if kind.handle_many is not None and len(todo) > 1:
                try:
                    with conn.begin_nested():
                        kind.handle_many(conn, [payload for _, payload in todo])
                    done = [job.id for job, _ in todo]
                    todo = []
                except Exception:
                    log.warning(
                        "a batch of %s %s jobs failed; running them one by one",
                        len(todo),
                        todo[0][0].kind,
                        exc_info=True,
                    )
            for job, payload in todo:
                try:
                    with conn.begin_nested():
                        kind.handler(conn, payload)
                    done.append(job.id)
                except Exception as exc:
                    failures.append((job, exc))
            if not queue.complete_many(conn, done, self.worker_id):
                raise _LeaseLost()  # cannot happen while the rows are locked; undo all if it does
        for job_id in done:
            outcomes[job_id] = "done"
        return failures

    def _lost(self, job: queue.Job) -> str:
        log.warning("job %s (%s): lease lost to another worker; left to it", job.id, job.kind)
        return "lease_lost"

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
        """Give the jobs in hand back to the queue, for a shutdown that cannot wait for them."""
        held = list(self.held)
        if not held:
            return
        with write_transaction(self.engine) as conn:
            for job in held:
                queue.release(conn, job, self.worker_id)
        for job in held:
            log.warning("job %s (%s) released unfinished for another worker", job.id, job.kind)

    def run_until_idle(self, max_jobs: int | None = None) -> int:
        """Run jobs until none is due (tests, one-shot commands); return how many ran.

        ``max_jobs`` stops after the batch that reaches it.
        """
        done = 0
        while max_jobs is None or done < max_jobs:
            ran = self.run_batch(force_tick=True)
            if not ran:
                break
            done += ran
        return done

    def run_forever(self) -> None:
        """Run jobs until :meth:`stop` is called, waiting for work when the queue is empty."""
        log.info("job worker %s started", self.worker_id)
        wakeup = self._wakeup = Wakeup(self.engine)
        if self.stop_event.is_set():
            wakeup.interrupt()
        beat = float("-inf")
        while not self.stop_event.is_set():
            try:
                wakeup.listen()
                while not self.stop_event.is_set():
                    # A long queue must not make a busy worker look dead.
                    if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                        with write_transaction(self.engine) as conn:
                            queue.heartbeat(conn, self.worker_id)
                        beat = time.monotonic()
                    if not self.run_batch():
                        break
                self._idle(wakeup)
            except Exception:
                log.exception("job worker %s hit an error; retrying", self.worker_id)
                wakeup.close()
                self.stop_event.wait(self.poll_seconds)
        wakeup.close()
        log.info("job worker %s stopped", self.worker_id)

    def _idle(self, wakeup: Wakeup) -> None:
        """Wait for work: a notification (PostgreSQL) or the poll interval (SQLite).

        On PostgreSQL the wait also ends when a delayed job or an expiring lease
        comes due and when periodic work on the clock is due (that work alone
        runs then), and at least every :data:`HEARTBEAT_SECONDS`.
        """
        if not wakeup.listens:
            wakeup.wait(self.poll_seconds)
            return
        while not self.stop_event.is_set():
            with read_connection(self.engine) as conn:
                job_due = queue.next_due_seconds(conn)
            if job_due == 0:
                return
            tick_due = self._seconds_to_next_tick()
            timeout = min(t for t in (job_due, tick_due, HEARTBEAT_SECONDS) if t is not None)
            if wakeup.wait(timeout) or timeout in (job_due, HEARTBEAT_SECONDS):
                return
            self.tick()

    def stop(self) -> None:
        """Ask the worker to stop after the batch in hand."""
        self.stop_event.set()
        if self._wakeup is not None:
            self._wakeup.interrupt()

    def start_thread(self) -> threading.Thread:
        """Run the worker in a daemon thread of this process and return the thread."""
        thread = threading.Thread(target=self.run_forever, name="foss-job-worker", daemon=True)
        thread.start()
        return thread
