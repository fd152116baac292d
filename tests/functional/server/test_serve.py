"""End to end: a real `foss serve` process, tokens made with `foss token`, HTTP on loopback."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from tests.functional.server.conftest import ServerProcess, foss_command, start_server


def foss(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*foss_command(), *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_token_workflow_submit_review_and_read_back(server: ServerProcess) -> None:
    created = foss(server.env, "token", "create", "--name", "alice", "--role", "submitter")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("foss_") and "\n" not in secret
    reviewer = foss(
        server.env, "token", "create", "--name", "rita", "--role", "reviewer"
    ).stdout.strip()

    api = f"{server.url}/api/v1"
    body = {"name": "requests", "version": "2.31.0", "ecosystem": "pypi", "license": "Apache-2.0"}
    response = httpx.post(f"{api}/packages", json=body, headers={"X-API-Key": secret})
    assert response.status_code == 201, response.text
    assert response.json()["submitted_by"] == "alice"
    assert (
        httpx.post(f"{api}/packages", json=body, headers={"X-API-Key": secret}).status_code == 409
    )

    decision = {"ecosystem": "pypi", "name": "requests", "version": "2.31.0", "decision": "approve"}
    assert (
        httpx.post(f"{api}/reviews", json=decision, headers={"X-API-Key": reviewer}).status_code
        == 201
    )
    record = httpx.get(f"{api}/packages/requests").json()
    assert record["status"] == "approved" and record["approved_by"] == "rita"

    listing = foss(server.env, "token", "list")
    assert "alice" in listing.stdout and "rita" in listing.stdout
    assert secret not in listing.stdout + listing.stderr
    assert foss(server.env, "token", "revoke", "alice").returncode == 0
    body2 = body | {"version": "2.32.0"}
    assert (
        httpx.post(f"{api}/packages", json=body2, headers={"X-API-Key": secret}).status_code == 403
    )

    # The job worker inside `foss serve` completes the scan the submission queued.
    deadline = time.monotonic() + 20
    status = "pending"
    while status == "pending" and time.monotonic() < deadline:
        status = httpx.get(f"{api}/security/scans/requests").json()["status"]
        time.sleep(0.2)
    assert status != "pending"

    assert secret not in server.log() and reviewer not in server.log()
    assert server.stop() == 0


def test_generate_prints_a_token_that_works_via_foss_api_tokens(tmp_path: Path) -> None:
    generated = subprocess.run(
        [*foss_command(), "token", "generate"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert generated.startswith("foss_")
    db = tmp_path / "static.db"
    proc = start_server(
        tmp_path,
        {
            "FOSS_DATABASE_URL": f"sqlite:///{db}",
            "FOSS_API_TOKENS": f"ci:submitter:{generated}",
            "FOSS_RATE_LIMITS_ENABLED": "false",
        },
    )
    try:
        body = {"name": "left-pad", "version": "1.3.0", "ecosystem": "npm"}
        r = httpx.post(f"{proc.url}/api/v1/packages", json=body, headers={"X-API-Key": generated})
        assert r.status_code == 201 and r.json()["submitted_by"] == "ci"
        # `foss serve` created the SQLite file and its schema by itself.
        assert db.exists()
        assert httpx.get(f"{proc.url}/readyz").json()["status"] == "ready"
    finally:
        assert proc.stop() == 0


def test_auth_off_is_announced_and_refused_on_public_addresses(tmp_path: Path) -> None:
    env = {"FOSS_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "FOSS_AUTH_ENABLED": "false"}
    proc = start_server(tmp_path, env)
    try:
        assert "authentication is OFF" in proc.log()
    finally:
        proc.stop()
    import os

    refused = subprocess.run(
        [*foss_command(), "serve", "--host", "0.0.0.0"],
        env=os.environ.copy() | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "--insecure-public" in refused.stderr


def test_serve_refuses_a_port_another_server_listens_on(server: ServerProcess) -> None:
    # Without the check, Granian's SO_REUSEPORT socket would start a second server
    # that silently takes a share of the first one's connections.
    port = server.url.rsplit(":", 1)[1]
    second = subprocess.run(
        [*foss_command(), "serve", "--no-job-worker"],
        env=server.env | {"FOSS_PORT": port},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
    assert httpx.get(f"{server.url}/healthz").status_code == 200
