"""Work done once per key on a thread of its own: the keeping of SQLite's search counts.

A search that finds a count worth keeping (a word set, a name term) asks for it
here and goes on; the count is added on one background thread, once however
often it is asked for, and asked again after a failure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor


class OncePerKey:
    """Runs a job once per key on one background thread, at most ``max_waiting`` waiting at once."""

    def __init__(self, thread_name: str, max_waiting: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)
        self._lock = threading.Lock()
        self._asked: dict[Hashable, Future[None]] = {}
        self._max_waiting = max_waiting

    def submit(self, key: Hashable, job: Callable[[], bool]) -> Future[None] | None:
        """The work of ``key``: started now unless asked for before; None when too many wait.

        ``job`` returns whether it succeeded; a key whose job failed runs again when next asked.
        """
        with self._lock:
            future = self._asked.get(key)
            if future is None:
                if sum(not f.done() for f in self._asked.values()) >= self._max_waiting:
                    return None
                future = self._asked[key] = self._executor.submit(self._run, key, job)
            return future

    def _run(self, key: Hashable, job: Callable[[], bool]) -> None:
        if not job():
            with self._lock:
                self._asked.pop(key, None)

    def wait(self) -> None:
        """Wait until every job asked for so far is done (for tests and tools)."""
        with self._lock:
            pending = list(self._asked.values())
        for future in pending:
            future.result()
