"""Deciding with open findings: approving past high findings or an errored scan needs a word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from foss_registry.config import get_settings
from tests.functional.conftest import key, submit
from tests.functional.vulns.conftest import import_all, run_jobs
from tests.functional.vulns.test_image_scans import empty_path, fake_tool  # noqa: F401

LOG4J = "org.apache.logging.log4j:log4j-core"
LOG4SHELL = "GHSA-jfh8-c2jp-5v3q"


def review(client: Any, token: str, **fields: Any) -> Any:
    body = {"decision": "approve"} | fields
    return client.post("/api/v1/reviews", json=body, headers=key(token))


def record(client: Any, name: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/packages/{name}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_approving_log4shell_needs_an_acknowledgement(
    client: Any, engine: Engine, tokens: dict[str, str], selected_data: list[Path]
) -> None:
    import_all(engine, selected_data)
    log4j = {"ecosystem": "maven", "name": LOG4J, "version": "2.14.1"}
    assert submit(client, tokens["submitter"], **log4j, license="Apache-2.0").status_code == 201
    run_jobs(engine)

    refused = review(client, tokens["reviewer"], **log4j, comment="we need it")
    assert refused.status_code == 409
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "findings_not_acknowledged"
    assert problem["findings"] == [{"id": LOG4SHELL, "severity": "critical"}]
    assert LOG4SHELL in problem["detail"] and "acknowledge_findings" in problem["detail"]
    # Nothing was stored.
    before = record(client, LOG4J)
    assert before["status"] == "pending" and before["reviews"] == []

    approved = review(client, tokens["reviewer"], **log4j, acknowledge_findings=True)
    assert approved.status_code == 201, approved.text
    answer = approved.json()
    assert answer["acknowledged"] == [LOG4SHELL] and answer["scan_status"] == "failed"
    assert answer["warnings"] == []
    (entry,) = record(client, LOG4J)["reviews"]
    assert entry["decision"] == "approve" and entry["by"] == "rita"
    assert (entry["scan_status"], entry["acknowledged"]) == ("failed", [LOG4SHELL])
    listed = client.get("/api/v1/reviews", params={"status": "approved"}).json()["reviews"]
    assert (listed[0]["scan_status"], listed[0]["acknowledged"]) == ("failed", [LOG4SHELL])

    # Rejecting needs no acknowledgement; the entry records the scan status all the same.
    rejected = review(
        client, tokens["reviewer"], **log4j, decision="reject", comment="Log4Shell after all"
    )
    assert rejected.status_code == 201, rejected.text
    last = record(client, LOG4J)["reviews"][-1]
    assert (last["decision"], last["scan_status"], last["acknowledged"]) == (
        "reject",
        "failed",
        [],
    )


def test_findings_below_high_need_no_acknowledgement(
    client: Any, engine: Engine, tokens: dict[str, str], selected_data: list[Path]
) -> None:
    import_all(engine, selected_data)
    # requests 2.31.0: GHSA-9wx4-h78v-vm56, CVSS 5.6 (medium): the scan fails at `low`.
    assert submit(client, tokens["submitter"], name="requests", version="2.31.0").status_code == 201
    run_jobs(engine)
    approved = review(
        client, tokens["reviewer"], ecosystem="pypi", name="requests", version="2.31.0"
    )
    assert approved.status_code == 201, approved.text
    assert approved.json()["scan_status"] == "failed" and approved.json()["acknowledged"] == []


def test_approving_before_the_scan_warns_and_its_findings_flag_the_version(
    client: Any, engine: Engine, tokens: dict[str, str], selected_data: list[Path]
) -> None:
    import_all(engine, selected_data)
    requests = {"ecosystem": "pypi", "name": "requests", "version": "2.31.0"}
    assert submit(client, tokens["submitter"], **requests).status_code == 201
    approved = review(client, tokens["reviewer"], **requests)
    assert approved.status_code == 201, approved.text
    answer = approved.json()
    assert answer["scan_status"] == "pending"
    (warning,) = answer["warnings"]
    assert "pending" in warning and "new_vulnerability" in warning
    assert answer["package"]["reviews"][-1]["scan_status"] == "pending"

    # The first scan finds GHSA-9wx4-h78v-vm56, which the approver never saw.
    run_jobs(engine)
    flagged = record(client, "requests")
    assert flagged["status"] == "approved" and flagged["flags"] == ["new_vulnerability"]


def test_approving_an_unscanned_version_warns(
    client: Any, engine: Engine, tokens: dict[str, str]
) -> None:
    # An empty vulnerability database: the scan is not_scanned. Allowed, with a warning.
    assert submit(client, tokens["submitter"], name="requests", version="2.31.0").status_code == 201
    run_jobs(engine)
    approved = review(
        client, tokens["reviewer"], ecosystem="pypi", name="requests", version="2.31.0"
    )
    assert approved.status_code == 201, approved.text
    assert approved.json()["scan_status"] == "not_scanned"
    assert "not_scanned" in approved.json()["warnings"][0]


def test_approving_past_an_errored_scan_needs_an_acknowledgement(
    client: Any,
    engine: Engine,
    tokens: dict[str, str],
    empty_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The only image scanner fails as it does when it cannot pull the image.
    fake_tool(empty_path, "trivy", exit_code=1)
    monkeypatch.setenv("FOSS_SCANNERS", "trivy")
    get_settings.cache_clear()
    image = {"ecosystem": "docker", "name": "nginx", "version": "1.25.3"}
    assert submit(client, tokens["submitter"], **image).status_code == 201
    run_jobs(engine)

    refused = review(client, tokens["reviewer"], **image)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "findings_not_acknowledged"
    assert problem["scan_status"] == "error" and problem["findings"] == []
    assert "error" in problem["detail"] and "trivy" in problem["detail"]

    approved = review(client, tokens["reviewer"], **image, acknowledge_findings=True)
    assert approved.status_code == 201, approved.text
    assert approved.json()["scan_status"] == "error"
