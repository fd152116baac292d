"""End to end: `foss vulndb import` beside a running `foss serve`, whose worker re-scans."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.functional.server.conftest import ServerProcess, foss_command, start_server


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    """A real `foss serve` (API and job worker) on this test's database."""
    proc = start_server(
        tmp_path, {"FOSS_DATABASE_URL": database_url, "FOSS_RATE_LIMITS_ENABLED": "false"}
    )
    yield proc
    proc.stop()


def foss(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*foss_command(), *args], env=server.env, capture_output=True, text=True, timeout=120
    )


def wait_for_scan(url: str, done: Any, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        report: dict[str, Any] = httpx.get(url).json()
        if done(report) or time.monotonic() > deadline:
            return report
        time.sleep(0.2)


def test_import_while_serving_rescans_what_it_affects(
    server: ServerProcess, shared_data: Path, picked_records: Path
) -> None:
    api = f"{server.url}/api/v1"
    token = foss(server, "token", "create", "--name", "ci", "--role", "submitter").stdout.strip()
    body = {"name": "flask", "version": "2.3.1", "ecosystem": "pypi"}
    assert httpx.post(f"{api}/packages", json=body, headers={"X-API-Key": token}).status_code == 201
    scan_url = f"{api}/security/scans/flask?version=2.3.1"
    first = wait_for_scan(scan_url, lambda r: r["status"] != "pending")
    assert first["status"] == "not_scanned" and "foss vulndb import" in first["reason"]

    # The import runs while the server and its worker use the same database.
    imported = foss(
        server, "vulndb", "import", str(shared_data / "osv/GHSA-PyPI.zip"), str(picked_records)
    )
    assert imported.returncode == 0, imported.stderr
    report = wait_for_scan(scan_url, lambda r: r["status"] not in ("pending", "not_scanned"))
    assert report["status"] == "failed"
    assert [v["id"] for v in report["vulnerabilities"]] == ["PYSEC-2023-62"]
    # Each imported path commits its own re-scans, so the worker may scan the version once
    # per path: together the import's scans add the advisory once and remove nothing.
    imports = [entry for entry in report["history"] if entry["trigger"] == "vulndb-import"]
    assert report["history"][-1]["trigger"] == "vulndb-import"
    assert [added for entry in imports for added in entry["changes"]["added"]] == [
        "PYSEC-2023-62"
    ]
    assert [gone for entry in imports for gone in entry["changes"]["removed"]] == []
    assert report["database"]["updated_at"].endswith("Z")
    assert server.stop() == 0
