"""``foss serve`` (API, reviewer pages and a job worker) and ``foss worker`` (jobs only)."""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import subprocess
import sys
from typing import Any

import typer

from foss_registry import storage
from foss_registry.cli.common import engine, err, fail, settings
from foss_registry.jobs.worker import Worker

log = logging.getLogger("foss_registry")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _prepare_database() -> None:
    eng = engine()
    current = storage.current_revision(eng)
    if current is None:
        err.print("empty database: creating the schema")
        storage.upgrade(eng)
    elif current != storage.head_revision():
        raise fail(
            f"the database schema is at {current}, this version needs "
            f"{storage.head_revision()}; run `foss db upgrade` first"
        )
    eng.dispose()


def _setup_logging() -> None:
    logging.basicConfig(
        level=settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def serve(
    host: str | None = typer.Option(None, help="Address to listen on (FOSS_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (FOSS_PORT, 8000)."),
    workers: int = typer.Option(1, min=1, max=64, help="API processes."),
    job_worker: bool = typer.Option(
        True, "--job-worker/--no-job-worker", help="Run a job worker in this process."
    ),
    insecure_public: bool = typer.Option(
        False, "--insecure-public", help="Allow auth off on a non-loopback address."
    ),
) -> None:
    """Run the API server in the foreground (upgrades an empty database first)."""
    from granian import Granian
    from granian.constants import Interfaces

    _setup_logging()
    cfg = settings()
    host = host or cfg.host
    port = port or cfg.port
    if not cfg.auth_enabled:
        err.print(
            "[bold red]WARNING: authentication is OFF (FOSS_AUTH_ENABLED=false): "
            "anyone who can reach this server can submit and approve packages.[/bold red]"
        )
        if not _is_loopback(host) and not insecure_public:
            raise fail(
                f"refusing to listen on {host} with authentication off; "
                "use a loopback address or pass --insecure-public"
            )
    _prepare_database()
    # Child API processes read their settings from the environment like this one.
    os.environ["FOSS_DATABASE_URL"] = cfg.database_url
    # The job worker is a child process rather than a thread: Granian forks its
    # API workers, and forking beside a running thread can copy a held lock.
    job_process = _start_job_worker() if job_worker else None
    err.print(
        f"FOSS Registry listening on http://{host}:{port} (database {_redacted(cfg.database_url)})"
    )
    server = Granian(
        "foss_registry.api.asgi:app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        log_access=False,
        workers_kill_timeout=10,
    )
    try:
        server.serve()
    finally:
        if job_process is not None:
            _stop_child(job_process)


def _start_job_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "foss_registry.cli.main", "worker"])


def _stop_child(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _redacted(url: str) -> str:
    # Never print a database password.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def worker(
    once: bool = typer.Option(False, "--once", help="Run queued jobs, then exit."),
) -> None:
    """Run a job worker process (scans, re-scans) until SIGTERM or Ctrl-C."""
    _setup_logging()
    cfg = settings()
    _prepare_database()
    job_worker = Worker(
        engine(), lease_seconds=cfg.job_lease_seconds, poll_seconds=cfg.worker_poll_seconds
    )
    if once:
        count = job_worker.run_until_idle()
        err.print(f"ran {count} job(s)")
        return

    def stop(_signum: int, _frame: Any) -> None:
        job_worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    job_worker.run_forever()
