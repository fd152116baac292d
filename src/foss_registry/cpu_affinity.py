"""Keeping each API process's Python threads on one CPU of its own (Linux).

An API process runs Python on one core at a time (the GIL), but its Python
threads (the event loop, the SQLite list threads) run wherever the kernel
places them, so a search handed from the event loop to a list thread usually
runs on another core than the one that took the request, and the two cores'
caches trade the interpreter's state back and forth. On the 2-core development
machine the server spent 2.0 ms of CPU per `search=library for` (672 req/s at
``wrk -c32``); with its Python threads on one core, 0.6-0.8 ms (1,291-1,670
req/s). The HTTP server's own threads (Granian's, in Rust, mostly off the GIL)
stay free: pinned too, they gained the searches nothing and cost detail reads
a fifth of their rate (README, "Benchmarks").

``foss serve`` hands its API processes a directory of CPU claims, one per user
of the machine (:func:`claims_dir`, named to them in :data:`CLAIMS_ENV`), so
that the API processes of every server a user runs on the machine share it.
Each locks the claim file of the first CPU it may use whose claim no other
holds (:func:`claim_cpu`) and keeps the lock while it lives (a process
respawned after a crash takes the CPU its predecessor let go); at its first
request, when the HTTP server's threads are running, it moves its Python
threads to that CPU (:func:`keep_python_threads_on`), and the threads they
start later inherit it. With more API processes than CPUs, or no claims
directory (the app served some other way), a process stays where the kernel
puts it. ``FOSS_PIN_CPU=false`` turns it off.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from pathlib import Path
from typing import IO

_log = logging.getLogger(__name__)

#: The environment variable naming the directory of CPU claims ``foss serve`` makes.
CLAIMS_ENV = "FOSS_CPU_CLAIMS_DIR"

# The claim this process holds: its lock lasts as long as the open file.
_held: IO[bytes] | None = None


def claims_dir() -> Path | None:
    """The user's directory of CPU claims on this machine (made if missing; None if unusable).

    None where threads cannot be pinned (not Linux), or when the directory is
    not this user's own.
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    path = Path(tempfile.gettempdir()) / f"foss-cpu-claims-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        if path.is_symlink() or path.stat().st_uid != os.getuid():
            return None
    except OSError:
        return None
    return path


def claim_cpu(claims_dir: str | None) -> int | None:
    """Claim the first CPU this process may use that no other holds (None: none, or no claims)."""
    global _held
    if not claims_dir or not hasattr(os, "sched_setaffinity"):
        return None
    for cpu in sorted(os.sched_getaffinity(0)):
        claim = (Path(claims_dir) / f"cpu-{cpu}").open("ab")
        try:
            fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            claim.close()
            continue
        _held = claim
        return cpu
    return None


#: The name the HTTP server's own threads (Granian's, in Rust, on tokio) start with.
HTTP_THREADS = "tokio-"


def keep_python_threads_on(cpu: int) -> None:
    """Move every thread of this process but the HTTP server's to ``cpu``.

    The threads they start later inherit it. (By name: Granian also runs
    Python on threads of its own that :mod:`threading` does not list.)
    """
    for thread, name in _threads(os.getpid()):
        if not name.startswith(HTTP_THREADS):
            os.sched_setaffinity(thread, {cpu})
    _log.info("API process %d keeps its Python threads on CPU %d", os.getpid(), cpu)


def _threads(pid: int) -> list[tuple[int, str]]:
    threads = []
    for thread in os.listdir(f"/proc/{pid}/task"):
        try:
            threads.append((int(thread), Path(f"/proc/{pid}/task/{thread}/comm").read_text()))
        except OSError:  # ended meanwhile
            continue
    return threads


def cpus_of(pid: int) -> list[tuple[str, set[int]]]:
    """Each thread of a process, by its name, with the CPUs it may run on (for checks and tools)."""
    return [(name.strip(), os.sched_getaffinity(thread)) for thread, name in _threads(pid)]
