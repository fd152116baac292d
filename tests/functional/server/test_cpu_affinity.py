"""`foss serve` keeps each API process's threads on one CPU of its own (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from foss_registry.cpu_affinity import HTTP_THREADS, cpus_of
from tests.functional.server.conftest import start_server


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the API processes of a server)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # The parent is the second field after the parenthesised command name.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _api_processes(url: str, server_pid: int, count: int) -> list[int]:
    # Every API process has started its threads once the server has answered a search.
    for _ in range(8):
        assert httpx.get(f"{url}/api/v1/packages?search=flask", timeout=10).status_code == 200
    children = _children(server_pid)
    assert len(children) == count, children
    return children


def test_each_api_process_keeps_its_threads_on_a_cpu_of_its_own(tmp_path: Path) -> None:
    # Claims of its own (the user's claims live in the temporary directory): another
    # test's server holding a CPU meanwhile would leave this one a CPU short.
    env = {"FOSS_DATABASE_URL": f"sqlite:///{tmp_path / 'pin.db'}", "TMPDIR": str(tmp_path)}
    server = start_server(tmp_path, env, ["--workers", "2", "--no-job-worker"])
    try:
        workers = _api_processes(server.url, server.process.pid, 2)
        cpus = sorted(os.sched_getaffinity(0))
        claimed = []
        for worker in workers:
            threads = cpus_of(worker)
            # Granian's own threads (in Rust, named by tokio) stay free; every Python
            # thread (the event loop, the list threads) on the CPU the process claimed.
            http = [allowed for name, allowed in threads if name.startswith(HTTP_THREADS)]
            python = {
                frozenset(allowed) for name, allowed in threads if not name.startswith(HTTP_THREADS)
            }
            assert http and all(allowed == set(cpus) for allowed in http), threads
            assert len(python) == 1, threads
            if len(cpus) > 1 and len(next(iter(python))) == 1:
                claimed.append(next(iter(python)))
        # Two processes, two CPUs (one CPU alone: nothing to keep apart).
        assert len(claimed) == min(2, len(cpus) if len(cpus) > 1 else 0), claimed
        assert len(set(claimed)) == len(claimed), claimed
        assert server.log().count("keeps its Python threads on CPU") == len(claimed)
        assert sorted(p.name for p in (tmp_path / f"foss-cpu-claims-{os.getuid()}").iterdir()) == [
            f"cpu-{cpu}" for cpu in cpus[:2]
        ]
    finally:
        assert server.stop() == 0


def test_pinning_can_be_turned_off(tmp_path: Path) -> None:
    env = {"FOSS_DATABASE_URL": f"sqlite:///{tmp_path / 'free.db'}", "FOSS_PIN_CPU": "false"}
    server = start_server(tmp_path, env, ["--no-job-worker"])
    try:
        (worker,) = _api_processes(server.url, server.process.pid, 1)
        assert all(allowed == os.sched_getaffinity(0) for _name, allowed in cpus_of(worker))
        assert "keeps its Python threads on CPU" not in server.log()
    finally:
        assert server.stop() == 0
