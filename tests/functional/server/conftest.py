"""A real ``foss serve`` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    """Return a TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A running server: its base URL, process and captured log file."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> int:
        """Send SIGTERM and wait; return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def foss_command() -> list[str]:
    """The `foss` command of this environment."""
    return [sys.executable, "-m", "foss_registry.cli.main"]


def start_server(
    tmp_path: Path,
    env_overrides: dict[str, str],
    args: list[str] | None = None,
    *,
    port: int | None = None,
) -> ServerProcess:
    """Start `foss serve` and wait until /healthz answers.

    Pass ``port`` to restart a server on the address it had before.
    """
    for _attempt in range(3):
        try:
            return _start(tmp_path, env_overrides, args, port or free_port())
        except PortTaken:
            # Another test's server took the free port first; a fixed port is the caller's.
            if port is not None:
                raise
    raise AssertionError("no free port for the server after three tries")


class PortTaken(AssertionError):
    """The server refused its port: something else listens there."""


def _start(
    tmp_path: Path, env_overrides: dict[str, str], args: list[str] | None, port: int
) -> ServerProcess:
    env = os.environ.copy() | {"FOSS_HOST": "127.0.0.1"} | env_overrides | {"FOSS_PORT": str(port)}
    log_path = tmp_path / f"server-{port}-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [*foss_command(), "serve", *(args or [])],
            env=env,
            cwd=tmp_path,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log_path, env)
    # Generous: a loaded 2-core machine can take long to start a server.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = server.log()
            if "cannot listen on" in log:
                raise PortTaken(log)
            raise AssertionError(f"server exited early:\n{log}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"server did not become healthy:\n{server.log()}")


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    """A real server process on this test's database, auth on, rate limits off."""
    proc = start_server(
        tmp_path, {"FOSS_DATABASE_URL": database_url, "FOSS_RATE_LIMITS_ENABLED": "false"}
    )
    yield proc
    proc.stop()
