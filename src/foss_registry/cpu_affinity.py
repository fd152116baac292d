"""Keeping each API process's threads on one CPU of its own (Linux).

An API process runs Python on one core at a time (the GIL), but its threads
(the event loop, the SQLite list threads, the HTTP server's own threads) run
wherever the kernel places them, so a search handed from the event loop to a
list thread usually runs on another core than the one that took the request,
and the two cores' caches trade the interpreter's state back and forth. On the
2-core development machine the server spent 2.0 ms of CPU per `search=library
for` (672 req/s at ``wrk -c32``); with its threads on one core, 0.77 ms
(1,291 req/s), the other core left to the client, the database server or the
job worker (``bench/packages_bench.py``).

``foss serve`` hands its API processes a directory of CPU claims, one per user
of the machine (:func:`claims_dir`, named to them in :data:`CLAIMS_ENV`), so
that the API processes of every server a user runs on the machine share it.
Each locks the claim file of the first CPU it may use whose claim no other
holds, keeps the lock while it lives (a process respawned after a crash takes
the CPU its predecessor let go), and moves every thread it has to that CPU;
threads started later inherit it. With more API processes than CPUs, or no
claims directory (the app served some other way), a process stays where the
kernel puts it. ``FOSS_PIN_CPU=false`` turns it off.
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


def pin_process(claims_dir: str | None) -> int | None:
    """Move this process's threads to the first CPU it can claim; return it (None: left as is)."""
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
        for thread in os.listdir("/proc/self/task"):
            os.sched_setaffinity(int(thread), {cpu})
        _log.info("API process %d keeps its threads on CPU %d", os.getpid(), cpu)
        return cpu
    return None


def cpus_of(pid: int) -> list[set[int]]:
    """The CPUs each thread of a process may run on (Linux), for checks and tools."""
    return [os.sched_getaffinity(int(thread)) for thread in os.listdir(f"/proc/{pid}/task")]
