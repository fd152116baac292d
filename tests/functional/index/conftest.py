"""Fixtures for the approved-only index: the shared fake upstream, a real server, real clients.

Every real client runs with a clean environment: no user or global configuration,
no cache, and its proxies pointed at :class:`Trap`, a loopback listener that counts
connections, with only loopback exempt; so a request that would leave loopback
lands in the trap and the test sees it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.fakes.upstream import FakeUpstream
from tests.functional.conftest import create_token
from tests.functional.server.conftest import ServerProcess, start_server

REPO = Path(__file__).resolve().parents[3]
UV = Path(sys.executable).with_name("uv")


class Trap:
    """A loopback TCP listener standing in for every proxy: counts what tried to leave."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    """The shared fake upstream with two PyPI versions and npm packages (one scoped)."""
    with FakeUpstream() as upstream:
        upstream.add_pypi("Demo_Pkg", "1.0.0", license_expression="MIT")
        upstream.add_pypi("Demo_Pkg", "2.0.0", license_expression="MIT")
        upstream.add_npm("left-pad", "1.0.0")
        upstream.add_npm("left-pad", "1.1.0")
        upstream.add_npm("@acme/util", "0.1.0")
        yield upstream


@pytest.fixture
def trap() -> Iterator[Trap]:
    """Where any request that leaves loopback would go."""
    t = Trap()
    yield t
    t.close()


@dataclass
class Registry:
    """A real `foss serve` with the index in front of the fake upstream, and its tokens."""

    server: ServerProcess
    engine: Engine
    tokens: dict[str, str]
    cache_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    def submit(self, ecosystem: str, name: str, version: str) -> None:
        body = {"ecosystem": ecosystem, "name": name, "version": version, "license": "MIT"}
        r = httpx.post(
            f"{self.url}/api/v1/packages",
            json=body,
            headers={"X-API-Key": self.tokens["submitter"]},
        )
        assert r.status_code == 201, r.text

    def decide(self, ecosystem: str, name: str, version: str, decision: str) -> None:
        body = {
            "ecosystem": ecosystem,
            "name": name,
            "version": version,
            "decision": decision,
            "comment": "test",
        }
        r = httpx.post(
            f"{self.url}/api/v1/reviews", json=body, headers={"X-API-Key": self.tokens["reviewer"]}
        )
        assert r.status_code == 201, r.text

    def approve(self, ecosystem: str, name: str, version: str) -> None:
        self.submit(ecosystem, name, version)
        self.decide(ecosystem, name, version, "approve")

    def blocked(self) -> list[dict[str, Any]]:
        r = httpx.get(
            f"{self.url}/api/v1/index/blocked", headers={"X-API-Key": self.tokens["admin"]}
        )
        assert r.status_code == 200, r.text
        blocked: list[dict[str, Any]] = r.json()["blocked"]
        return blocked

    def cached_files(self) -> list[Path]:
        return [p for p in self.cache_dir.rglob("*") if p.is_file() and ".tmp" not in p.parts]


def start_registry(
    tmp_path: Path, database_url: str, engine: Engine, fake: FakeUpstream, **env: str
) -> Registry:
    cache_dir = tmp_path / "index-cache"
    tokens = {
        "submitter": create_token(engine, "alice", "submitter"),
        "reviewer": create_token(engine, "rita", "reviewer"),
        "admin": create_token(engine, "adam", "admin"),
    }
    server = start_server(
        tmp_path,
        {
            "FOSS_DATABASE_URL": database_url,
            "FOSS_RATE_LIMITS_ENABLED": "false",
            "FOSS_UPSTREAM_PYPI": fake.pypi_url,
            "FOSS_UPSTREAM_NPM": fake.npm_url,
            "FOSS_INDEX_CACHE_DIR": str(cache_dir),
        }
        | env,
        ["--no-job-worker"],
    )
    return Registry(server, engine, tokens, cache_dir)


@pytest.fixture
def registry(
    tmp_path: Path, database_url: str, engine: Engine, fake: FakeUpstream
) -> Iterator[Registry]:
    """A real server in enforce mode."""
    reg = start_registry(tmp_path, database_url, engine, fake)
    yield reg
    reg.server.stop()


def clean_env(home: Path, trap: Trap) -> dict[str, str]:
    """An environment with no configuration of the user's and every proxy set to the trap."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "UV_NO_CONFIG": "1",
        "http_proxy": trap.url,
        "https_proxy": trap.url,
        "HTTP_PROXY": trap.url,
        "HTTPS_PROXY": trap.url,
        "ALL_PROXY": trap.url,
        "no_proxy": "127.0.0.1",
        "NO_PROXY": "127.0.0.1",
    }


def run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )


def pip(
    registry: Registry, trap: Trap, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run the real pip against the registry's index, isolated and without a cache."""
    command = [
        sys.executable,
        "-m",
        "pip",
        *args[:1],
        "--no-cache-dir",
        "--no-input",
        "--index-url",
        f"{registry.url}/simple/",
        *args[1:],
    ]
    return run(command, clean_env(tmp_path / "home", trap), tmp_path)


def npm(
    registry: Registry, trap: Trap, project: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run the real npm in ``project`` with a temporary userconfig and cache."""
    project.mkdir(parents=True, exist_ok=True)
    if not (project / "package.json").exists():
        (project / "package.json").write_text('{"name": "demo-app", "version": "1.0.0"}')
    userconfig = project.parent / "npmrc"
    userconfig.write_text(f"registry={registry.url}/npm/\n")
    globalconfig = project.parent / "global-npmrc"
    globalconfig.write_text("")
    command = [
        shutil.which("npm") or "npm",
        *args,
        "--registry",
        f"{registry.url}/npm/",
        "--userconfig",
        str(userconfig),
        "--globalconfig",
        str(globalconfig),
        "--cache",
        str(project.parent / "npm-cache"),
        "--no-audit",
        "--no-fund",
        "--no-update-notifier",
        "--proxy",
        trap.url,
        "--https-proxy",
        trap.url,
        "--noproxy",
        "127.0.0.1",
    ]
    return run(command, clean_env(project.parent / "home", trap), project)
