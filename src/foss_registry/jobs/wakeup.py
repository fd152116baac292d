"""How an idle worker waits: for the queue's notifications on PostgreSQL, or for the clock.

On PostgreSQL every enqueue (and every outbox event) sends a notification on
:data:`~foss_registry.jobs.queue.CHANNEL` when its transaction commits; an idle
worker holds one connection of its own that ``LISTEN``\\ s there, so it starts
on new work at once instead of asking the database every so often. SQLite has
no such thing: there the worker sleeps for its poll interval, as before.
Either wait ends early when the worker is asked to stop.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
from typing import Any

from sqlalchemy import Engine

from foss_registry.jobs.queue import CHANNEL


class Wakeup:
    """Waits until the queue is notified, the timeout passes or :meth:`interrupt` is called."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stopped = threading.Event()
        # A pipe, so that a stop from a signal handler or another thread ends a
        # wait on the database's socket at once.
        self._interrupt_r, self._interrupt_w = os.pipe()
        os.set_blocking(self._interrupt_w, False)
        self._listening: Any = None  # the psycopg connection that listens (PostgreSQL)

    @property
    def listens(self) -> bool:
        """Whether notifications wake this worker (PostgreSQL)."""
        return self._engine.dialect.name == "postgresql"

    def listen(self) -> None:
        """Start listening (PostgreSQL; nothing on SQLite). Call before looking for work.

        Work enqueued after this returns wakes the next :meth:`wait`, so
        nothing committed between a look at the queue and the wait is missed.
        """
        if not self.listens or self._listening is not None:
            return
        raw = self._engine.raw_connection()
        driver: Any = raw.driver_connection
        # Its own connection for as long as the worker lives, not the pool's.
        raw.detach()
        driver.autocommit = True
        driver.execute(f"LISTEN {CHANNEL}")
        self._listening = driver

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True when woken by a notification."""
        if self._stopped.is_set():
            return False
        if self._listening is None:
            self._stopped.wait(timeout)
            return False
        pgconn = self._listening.pgconn
        ready, _, _ = select.select([pgconn.socket, self._interrupt_r], [], [], max(timeout, 0))
        if self._interrupt_r in ready:
            os.read(self._interrupt_r, 64)
        if pgconn.socket not in ready:
            return False
        pgconn.consume_input()
        woken = False
        while pgconn.notifies() is not None:
            woken = True
        return woken

    def interrupt(self) -> None:
        """End the current and every later wait (the worker stops); safe in a signal handler."""
        self._stopped.set()
        with contextlib.suppress(BlockingIOError):  # a wake-up is pending already
            os.write(self._interrupt_w, b"x")

    def close(self) -> None:
        """Stop listening and close the connection (a new :meth:`listen` opens another)."""
        driver, self._listening = self._listening, None
        if driver is not None:
            # A connection already broken is closed enough.
            with contextlib.suppress(Exception):
                driver.close()
