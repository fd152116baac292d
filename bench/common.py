"""Shared benchmark plumbing: free ports, server processes, wrk runs and their parsing."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FOSS_SHARED_DATA", REPO.parent / "shared" / "data"))


def free_port() -> int:
    """A TCP port free on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A server process started for a benchmark."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """SIGTERM the whole process group and wait."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(cmd: list[str], env: dict[str, str], port: int, health: str, cwd: Path) -> Server:
    """Start a server command and wait until ``health`` answers."""
    log = open(cwd / f"server-{port}.log", "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        cmd,
        env=os.environ.copy() | env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server {cmd} exited; see {log.name}")
        try:
            if httpx.get(url + health, timeout=1).status_code < 500:
                return Server(url, process)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server {cmd} did not start; see {log.name}")


def start_registry(
    env: dict[str, str], cwd: Path, workers: int = 1, *, job_worker: bool = False
) -> Server:
    """Start `foss serve` with rate limits off (and no job worker unless asked)."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "foss_registry.cli.main",
        "serve",
        *([] if job_worker else ["--no-job-worker"]),
        "--workers",
        str(workers),
        "--port",
        str(port),
    ]
    base = {"FOSS_RATE_LIMITS_ENABLED": "false", "FOSS_LOG_LEVEL": "WARNING"}
    return start(cmd, base | env, port, "/healthz", cwd)


def start_baseline(body_size: int, cwd: Path, workers: int = 1) -> Server:
    """Start the constant-JSON Starlette baseline under Granian."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-ws",
        "bench.baseline_app:app",
    ]
    env = {"BASELINE_BODY_SIZE": str(body_size), "PYTHONPATH": str(REPO)}
    return start(cmd, env, port, "/healthz", cwd)


@dataclass
class WrkResult:
    """What wrk measured."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str,
    *,
    seconds: int = 10,
    connections: int = 32,
    threads: int = 2,
    script: Path | None = None,
    headers: dict[str, str] | None = None,
) -> WrkResult:
    """Run wrk against a URL on loopback and parse its report."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return WrkResult(rps, p50, p99, total, errors)


def row(label: str, result: WrkResult, baseline: WrkResult | None = None) -> str:
    """One line of the results table."""
    ratio = f"{result.requests_per_s / baseline.requests_per_s:6.1%}" if baseline else "     -"
    return (
        f"{label:<44} {result.requests_per_s:>10,.0f} {result.p50_ms:>8.2f} "
        f"{result.p99_ms:>8.2f} {ratio:>8} {result.errors:>7}"
    )


HEADER = f"{'endpoint':<44} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'vs base':>8} {'errors':>7}"
