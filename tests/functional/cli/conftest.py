"""Run the `foss` client as a subprocess against a real `foss serve` process."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.functional.server.conftest import ServerProcess, foss_command, free_port
from tests.functional.server.conftest import server as server  # the fixture, shared

ANSI_ESCAPE = "\x1b["


@dataclass
class Result:
    """What a `foss` run printed and how it exited."""

    code: int
    stdout: str
    stderr: str


def client_env(api_url: str | None, token: str | None = None) -> dict[str, str]:
    """The environment of a client run: no server settings, only the client's variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOSS_") and k != "COLUMNS"}
    if api_url is not None:
        env["FOSS_API_URL"] = api_url
    if token is not None:
        env["FOSS_API_TOKEN"] = token
    return env


def run_foss(
    *args: str | Path,
    api_url: str | None,
    token: str | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> Result:
    """Run `foss ARGS` and return its exit code and output."""
    proc = subprocess.run(
        [*foss_command(), *map(str, args)],
        env=client_env(api_url, token),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    # Whatever happened, the user never sees a traceback or terminal colours in a pipe.
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert ANSI_ESCAPE not in result.stdout, result.stdout
    return result


@dataclass
class Registry:
    """A running server and how a client reaches it."""

    server: ServerProcess
    api_url: str

    def foss(self, *args: str | Path, token: str | None = None, cwd: Path | None = None) -> Result:
        """Run a client command against this server."""
        return run_foss(*args, api_url=self.api_url, token=token, cwd=cwd)


@pytest.fixture
def registry(server: ServerProcess) -> Registry:
    """The real server of this test, with its API URL for clients."""
    return Registry(server, f"{server.url}/api/v1")


@pytest.fixture
def closed_port_url() -> str:
    """An API URL on a loopback port where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/api/v1"


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """The client speaks only HTTP, so one backend is enough here: a fresh SQLite copy.

    The server behind it is tested on both backends elsewhere; running every
    client command twice would double the suite's slowest part for nothing.
    """
    path = tmp_path / "registry.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"
