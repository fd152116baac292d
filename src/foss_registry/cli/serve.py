"""``foss serve`` (API, its documentation and a job worker) and ``foss worker`` (jobs only)."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from foss_registry.cli.common import domain_errors, engine, err, fail, ready_engine, settings

if TYPE_CHECKING:
    from foss_registry.jobs.worker import Worker

log = logging.getLogger("foss_registry")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_address_free(host: str, port: int) -> None:
    """Refuse an address another server listens on.

    Granian binds its socket with SO_REUSEPORT: a second server on a busy port
    would start and silently take a share of the first one's connections.
    """
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _index_line(cfg: Any) -> str:
    """What the approved-only index serves, and from which upstreams (never their URLs)."""
    pypi = "configured" if cfg.upstream_pypi else "not configured (FOSS_UPSTREAM_PYPI)"
    npm = "configured" if cfg.upstream_npm else "not configured (FOSS_UPSTREAM_NPM)"
    return (
        f"approved-only index in {cfg.index_mode} mode: /simple/ (PyPI upstream {pypi}), "
        f"/npm/ (npm upstream {npm})"
    )


def _upstreams_line(cfg: Any) -> str:
    """Which upstream registries enrichment reads (never their URLs: they may hold credentials)."""
    from foss_registry.upstream import UpstreamConfig

    upstreams = UpstreamConfig.from_settings(cfg)
    parts = [
        f"{eco} configured" if url else f"{eco} not configured (FOSS_UPSTREAM_{eco.upper()} unset)"
        for eco, url in upstreams.urls.items()
    ]
    line = "upstream registries for enrichment: " + ", ".join(parts)
    if upstreams.not_configured():
        line += "; versions of an ecosystem not configured are recorded not_configured"
    return line


def _announce(message: str) -> None:
    """Tell the operator something at start: on the console, or as a log line in JSON mode."""
    if settings().log_format == "json":
        plain = re.sub(r"\[/?[a-z ]+\]", "", message)
        level = logging.WARNING if "warning" in plain.lower() else logging.INFO
        log.log(level, plain)
    else:
        err.print(message)


def _setup_logging() -> None:
    from foss_registry.logs import setup_logging

    cfg = settings()
    setup_logging(cfg.log_level, cfg.log_format)


#: Seconds Granian gives an API process to finish its in-flight requests on SIGTERM;
#: the job worker stops meanwhile, so `foss serve` exits within 15 s of SIGTERM.
SHUTDOWN_GRACE_SECONDS = 10
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


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
    from granian.http import HTTP1Settings

    from foss_registry.config import REQUEST_READ_TIMEOUT_SECONDS

    _setup_logging()
    cfg = settings()
    host = host or cfg.host
    port = port or cfg.port
    if not cfg.auth_enabled:
        _announce(
            "[bold red]WARNING: authentication is OFF (FOSS_AUTH_ENABLED=false): "
            "anyone who can reach this server can submit and approve packages.[/bold red]"
        )
        if not _is_loopback(host) and not insecure_public:
            raise fail(
                f"refusing to listen on {host} with authentication off; "
                "use a loopback address or pass --insecure-public"
            )
    # A bad FOSS_API_TOKENS is refused here, once, not by each API process as it starts.
    from foss_registry.auth.service import parse_static_tokens

    with domain_errors():
        parse_static_tokens(cfg.api_tokens)
    _check_address_free(host, port)
    ready_engine(_announce).dispose()
    # Child API processes read their settings from the environment like this one.
    os.environ["FOSS_DATABASE_URL"] = cfg.database_url
    # Metrics of every process (API workers, the job worker) are added up from
    # files in one directory; it must be in the environment before they start.
    # One API process alone keeps them in memory (cheaper per request).
    metrics_dir = _prepare_metrics_dir() if workers > 1 or job_worker else None
    if cfg.pin_cpu:
        # Each API process claims a CPU of its own (foss_registry.cpu_affinity).
        from foss_registry.cpu_affinity import CLAIMS_ENV, claims_dir

        claims = claims_dir()
        if claims is not None:
            os.environ[CLAIMS_ENV] = str(claims)
    # The job worker is a child process rather than a thread: Granian forks its
    # API workers, and forking beside a running thread can copy a held lock.
    job_process = _start_job_worker() if job_worker else None
    try:
        if job_process is not None:
            _wait_for_first_heartbeat(job_process)
            # This server runs its own worker: it is not ready without one.
            os.environ.setdefault("FOSS_READY_REQUIRES_WORKER", "true")
        # The API processes are forked from this one: let them read the environment
        # as it is now rather than this process's cached settings.
        from foss_registry.config import get_settings

        get_settings.cache_clear()
        _announce(
            f"FOSS Registry listening on http://{host}:{port} "
            f"(database {_redacted(cfg.database_url)}, {workers} API process(es))"
        )
        _announce(_index_line(cfg))
        _announce(_upstreams_line(cfg))
        from foss_registry.logs import granian_log_config

        server = Granian(
            "foss_registry.wiring:asgi_app",
            factory=True,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            # No route speaks WebSocket; without it Granian takes a shorter path per request.
            websockets=False,
            workers=workers,
            log_access=False,
            log_dictconfig=granian_log_config(cfg.log_level, cfg.log_format),
            # Granian honours no proxy headers unless wrapped; client addresses are
            # resolved by our edge middleware from FOSS_TRUSTED_PROXIES only.
            respawn_failed_workers=True,
            workers_kill_timeout=SHUTDOWN_GRACE_SECONDS,
            # Granian lets every request under way finish before an API process stops; a
            # client that stalls mid-request is dropped well within the grace period, so a
            # process never has to be killed (the body has the same bound in the edge).
            http1_settings=HTTP1Settings(
                header_read_timeout=int(REQUEST_READ_TIMEOUT_SECONDS * 1000)
            ),
        )
        if job_process is not None:
            server.on_startup(lambda: _forward_stop_signals(job_process))
        server.serve()
    finally:
        if job_process is not None:
            _stop_child(job_process, timeout=SHUTDOWN_GRACE_SECONDS)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _prepare_metrics_dir() -> Path | None:
    """Export a fresh PROMETHEUS_MULTIPROC_DIR unless the operator chose one.

    prometheus-client reads the variable when first imported, so this runs
    before anything in this process (or the API processes it forks) imports it.
    """
    if os.environ.get(METRICS_DIR_ENV):
        return None
    path = Path(tempfile.mkdtemp(prefix="foss-metrics-"))
    os.environ[METRICS_DIR_ENV] = str(path)
    return path


def _forward_stop_signals(job_process: subprocess.Popen[bytes]) -> None:
    """Stop the job worker as soon as Granian is asked to stop, not after its API processes.

    Runs as a Granian startup hook, after Granian installed its own handlers,
    which are still called.
    """
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)

        def handler(sig: int, frame: Any, previous: Any = previous) -> None:
            if job_process.poll() is None:
                job_process.send_signal(signal.SIGTERM)
            if callable(previous):
                previous(sig, frame)

        signal.signal(signum, handler)


def _wait_for_first_heartbeat(job_process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until the job worker child is running (its first heartbeat), so /readyz is true."""
    from sqlalchemy import select

    from foss_registry.jobs.models import worker_heartbeats

    prefix = f"{socket.gethostname()}:{job_process.pid}:"
    eng = engine()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if job_process.poll() is not None:
                raise fail(f"the job worker exited at start (code {job_process.returncode})")
            with eng.connect() as conn:
                seen = conn.execute(
                    select(worker_heartbeats.c.worker_id).where(
                        worker_heartbeats.c.worker_id.startswith(prefix, autoescape=True)
                    )
                ).first()
            if seen is not None:
                return
            time.sleep(0.05)
        _announce("[yellow]warning:[/yellow] the job worker has not reported yet; serving anyway")
    finally:
        eng.dispose()


def _start_job_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "foss_registry.cli.main", "worker"])


def _abandon_and_exit(job_worker: Worker) -> None:
    try:
        job_worker.abandon()
    finally:
        logging.shutdown()
        os._exit(0)


def _stop_child(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
    if process.returncode is None:
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
    metrics_port: int | None = typer.Option(
        None, help="Serve this worker's Prometheus metrics on this port (e.g. 9101)."
    ),
) -> None:
    """Run a job worker process (scans, re-scans) until SIGTERM or Ctrl-C.

    On SIGTERM it finishes the job in hand (or gives it back) and exits.
    """
    from foss_registry.wiring import new_worker

    _setup_logging()
    cfg = settings()
    ready_engine(_announce).dispose()
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=cfg.host)
    job_worker = new_worker(
        engine(), lease_seconds=cfg.job_lease_seconds, poll_seconds=cfg.worker_poll_seconds
    )
    if once:
        count = job_worker.run_until_idle()
        err.print(f"ran {count} job(s)")
        return

    def stop(_signum: int, _frame: Any) -> None:
        job_worker.stop()
        # A job that cannot finish within the grace period is given back to the
        # queue (another worker runs it at once) rather than holding up shutdown.
        timer = threading.Timer(SHUTDOWN_GRACE_SECONDS, _abandon_and_exit, args=(job_worker,))
        timer.daemon = True
        timer.start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    job_worker.run_forever()
