"""The gate's default against a real server and the shared OSV data: Log4Shell approved."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from foss_registry.scans.service import IMPORT_RESCANS
from foss_registry.vulns import service as vulndb
from tests.functional.cli.conftest import Registry

LOG4J = "org.apache.logging.log4j:log4j-core"
LOG4SHELL = "GHSA-jfh8-c2jp-5v3q"

POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>billing</artifactId>
  <version>1.0.0</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>2.14.1</version>
    </dependency>
  </dependencies>
</project>
"""


def wait_for_scan(registry: Registry, status: str) -> dict[str, Any]:
    """Poll the scan of log4j-core 2.14.1 until the server's job worker gave it ``status``."""
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, Any] = httpx.get(
            f"{registry.api_url}/security/scans/{LOG4J}", params={"version": "2.14.1"}
        ).json()
        if body["status"] == status or time.monotonic() > deadline:
            assert body["status"] == status, body
            return body
        time.sleep(0.2)


def test_log4shell_found_after_approval_fails_the_gate_until_acknowledged(
    registry: Registry,
    engine: Engine,
    tokens: dict[str, str],
    shared_data: Path,
    tmp_path: Path,
) -> None:
    pom = tmp_path / "pom.xml"
    pom.write_text(POM)
    submitted = httpx.post(
        f"{registry.api_url}/packages",
        json={"name": LOG4J, "version": "2.14.1", "ecosystem": "maven", "license": "Apache-2.0"},
        headers={"X-API-Key": tokens["submitter"]},
    )
    assert submitted.status_code == 201, submitted.text
    # No Maven data yet: not_scanned; approving is allowed, with a warning.
    wait_for_scan(registry, "not_scanned")
    approve = ("review", "approve", LOG4J, "2.14.1", "--ecosystem", "maven")
    first = registry.foss(*approve, token=tokens["reviewer"])
    assert first.code == 0, first.stderr
    assert "warning:" in first.stderr and "not_scanned" in first.stderr
    assert registry.foss("check", pom).code == 0

    # The Maven advisories arrive; the re-scan finds Log4Shell, which nobody acknowledged.
    vulndb.import_path(engine, shared_data / "osv" / "GHSA-Maven.zip", rescans=IMPORT_RESCANS)
    wait_for_scan(registry, "failed")
    failed = registry.foss("check", pom)
    assert failed.code == 1, failed.stdout
    line = next(line for line in failed.stdout.splitlines() if "log4j-core" in line)
    assert line.startswith("│ vulnerable") and f"{LOG4SHELL} critical open" in line
    assert "new_vulnerability" in failed.stdout
    document = json.loads(registry.foss("check", pom, "--format", "json").stdout)
    (dep,) = document["dependencies"]
    assert (dep["status"], dep["verdict"]) == ("approved", "vulnerable")
    assert dep["findings"] == [
        {
            "id": LOG4SHELL,
            "aliases": ["CVE-2021-44228"],
            "severity": "critical",
            "acknowledged": False,
            "triaged": False,
        }
    ]
    assert document["summary"] == {
        "total": 1,
        "rejected": 0,
        "unknown": 0,
        "unpinned": 0,
        "vulnerable": 1,
        "pending": 0,
        "approved": 0,
        "failing": 1,
        "result": "failed",
    }

    # Approving again needs the acknowledgement; then the gate passes and says why.
    refused = registry.foss(*approve, token=tokens["reviewer"])
    assert refused.code == 3 and LOG4SHELL in refused.stderr
    acknowledged = registry.foss(*approve, "--acknowledge-findings", token=tokens["reviewer"])
    assert acknowledged.code == 0, acknowledged.stderr
    passed = registry.foss("check", pom)
    assert passed.code == 0, passed.stdout
    assert f"{LOG4SHELL} critical acknowledged" in passed.stdout
    # --fail-on-severity keeps its meaning: any finding at or above the level fails.
    assert registry.foss("check", pom, "--fail-on-severity", "critical").code == 1
