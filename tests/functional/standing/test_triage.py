"""Triage over HTTP: a triaged finding stays visible, stops counting, and counts again."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
from sqlalchemy import Engine, select

from foss_registry.db import read_connection
from foss_registry.webhooks.models import webhook_events
from tests.functional.conftest import submit
from tests.functional.standing.conftest import created, key, package, scan
from tests.functional.vulns.conftest import run_jobs

TRIAGE = "/api/v1/triage"
CVE = "CVE-2023-30861"  # an alias of PYSEC-2023-62: flask 2.3.0 to before 2.3.2
SCHEMA = Path(__file__).resolve().parents[2] / "fixtures" / "openvex-0.2.0.schema.json"


def decide(client: Any, token: str, **fields: Any) -> Any:
    body = {
        "advisory": CVE,
        "ecosystem": "pypi",
        "name": "Flask",
        "range": ">=2.3.0,<2.3.2",
        "state": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
        "comment": "we never set a session cookie",
    } | fields
    return client.post(TRIAGE, json=body, headers=key(token))


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def events(engine: Engine, kind: str) -> list[dict[str, Any]]:
    with read_connection(engine) as conn:
        bodies = conn.execute(
            select(webhook_events.c.body).where(webhook_events.c.type == kind)
        ).scalars()
        return [json.loads(b) for b in bodies]


def check(client: Any, **body: Any) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/check",
        json={"dependencies": [{"name": "flask", "version": "2.3.1", "ecosystem": "pypi"}]} | body,
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["dependencies"][0]
    return result


def test_a_triaged_finding_stays_visible_and_stops_counting_until_the_triage_ends(
    client: Any, engine: Engine, tokens: dict[str, str], pypi_advisories: None
) -> None:
    submit(client, tokens["submitter"], version="2.3.1", license="BSD-3-Clause")
    run_jobs(engine)
    before = scan(client, "flask", "2.3.1")
    assert before["status"] == "failed"
    counted = sum(before["severity"].values())
    assert counted >= 1 and check(client)["scan_status"] == "failed"

    made = created(decide(client, tokens["reviewer"]))
    assert made["advisory"] == CVE and made["range"] == "<2.3.2,>=2.3.0" and made["live"]
    after = scan(client, "flask", "2.3.1")
    assert after["status"] == "passed"
    assert sum(after["severity"].values()) == counted - 1
    (finding,) = [v for v in after["vulnerabilities"] if CVE in v["aliases"]]
    assert finding["triage"] == {
        "id": made["id"],
        "state": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
        "comment": "we never set a session cookie",
        "expires_at": None,
        "by": "rita",
    }
    gate = check(client)
    assert gate["scan_status"] == "passed"
    assert [f["id"] for f in gate["findings"] if f["triaged"]] == [finding["id"]]
    assert sum(gate["severity"].values()) == counted - 1

    # A person approves now that the scan passes; ending the triage flags the approval.
    client.post(
        "/api/v1/reviews",
        json={"ecosystem": "pypi", "name": "flask", "version": "2.3.1", "decision": "approve"},
        headers=key(tokens["reviewer"]),
    )
    ended = client.delete(f"{TRIAGE}/{made['id']}", headers=key(tokens["reviewer"]))
    assert ended.status_code == 200 and ended.json()["live"] is False
    assert scan(client, "flask", "2.3.1")["status"] == "failed"
    assert check(client)["scan_status"] == "failed"
    assert "triage_expired" in package(client, "flask", "2.3.1")["flags"]
    (event,) = events(engine, "triage.expired")
    assert event["data"]["name"] == "flask" and event["data"]["version"] == "2.3.1"
    assert event["data"]["status"] == "approved" and event["data"]["triage"]["id"] == made["id"]
    assert event["data"]["purl"] == "pkg:pypi/flask@2.3.1"


def test_an_expired_triage_counts_again_and_flags_the_approved_versions_it_touched(
    client: Any, engine: Engine, tokens: dict[str, str], pypi_advisories: None
) -> None:
    submit(client, tokens["submitter"], version="2.3.1", license="MIT")
    run_jobs(engine)
    created(
        decide(
            client,
            tokens["reviewer"],
            state="accepted_risk",
            justification=None,
            expires_at=later(2),
        )
    )
    assert scan(client, "flask", "2.3.1")["status"] == "passed"
    client.post(
        "/api/v1/reviews",
        json={"ecosystem": "pypi", "name": "flask", "version": "2.3.1", "decision": "approve"},
        headers=key(tokens["reviewer"]),
    )
    time.sleep(2.5)
    # At once for reads; the worker's next pass (every second in a server) flags.
    assert scan(client, "flask", "2.3.1")["status"] == "failed"
    run_jobs(engine)
    assert package(client, "flask", "2.3.1")["flags"] == ["triage_expired"]
    assert len(events(engine, "triage.expired")) == 1
    run_jobs(engine)
    assert len(events(engine, "triage.expired")) == 1


def test_triage_lets_an_approval_rule_approve_a_pending_version(
    client: Any, engine: Engine, tokens: dict[str, str], pypi_advisories: None
) -> None:
    client.post(
        "/api/v1/approval-rules",
        json={"ecosystem": "pypi", "name": "flask", "range": "~=2.3.0"},
        headers=key(tokens["reviewer"]),
    )
    submit(client, tokens["submitter"], version="2.3.1", license="MIT")
    run_jobs(engine)
    assert package(client, "flask", "2.3.1")["status"] == "pending"
    # By the advisory's own id this time, for every version.
    created(
        decide(
            client,
            tokens["reviewer"],
            advisory="PYSEC-2023-62",
            range=None,
            state="false_positive",
            justification=None,
        )
    )
    record = package(client, "flask", "2.3.1")
    assert record["status"] == "approved" and record["reviews"][-1]["by"].startswith("rule:")


def test_the_openvex_export_is_valid_openvex(
    client: Any, engine: Engine, tokens: dict[str, str], pypi_advisories: None
) -> None:
    for version in ("2.3.0", "2.3.1", "2.3.2"):
        submit(client, tokens["submitter"], version=version, license="MIT")
    run_jobs(engine)
    created(decide(client, tokens["reviewer"]))
    created(
        decide(
            client,
            tokens["reviewer"],
            advisory="GHSA-m2qf-hxjv-5gpq",
            name="flask",
            range=None,
            state="false_positive",
            justification=None,
            comment=None,
        )
    )
    created(
        decide(
            client,
            tokens["admin"],
            advisory="CVE-2099-0001",
            name="requests",
            range=None,
            state="accepted_risk",
            justification=None,
            comment="fix scheduled",
            expires_at=later(3600),
        )
    )
    answer = client.get("/api/v1/export/openvex", headers=key(tokens["submitter"]))
    assert answer.status_code == 200, answer.text
    document = answer.json()
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    by_name = {s["vulnerability"]["name"]: s for s in document["statements"]}
    ranged = by_name[CVE]
    assert ranged["status"] == "not_affected"
    assert ranged["justification"] == "vulnerable_code_not_in_execute_path"
    assert [p["@id"] for p in ranged["products"]] == [
        "pkg:pypi/flask@2.3.0",
        "pkg:pypi/flask@2.3.1",
    ]
    assert "PYSEC-2023-62" in ranged["vulnerability"]["aliases"]
    false_positive = by_name["GHSA-m2qf-hxjv-5gpq"]
    assert false_positive["status"] == "not_affected"
    assert false_positive["justification"] == "vulnerable_code_not_present"
    assert false_positive["impact_statement"].startswith("False positive")
    assert [p["@id"] for p in false_positive["products"]] == ["pkg:pypi/flask"]
    accepted = by_name["CVE-2099-0001"]
    assert accepted["status"] == "affected" and "fix scheduled" in accepted["action_statement"]
    assert client.get("/api/v1/export/openvex").status_code == 401


def test_check_honours_vex_statements(
    client: Any, engine: Engine, tokens: dict[str, str], pypi_advisories: None
) -> None:
    submit(client, tokens["submitter"], version="2.3.1", license="MIT")
    run_jobs(engine)
    statement = {
        "vulnerability": "GHSA-m2qf-hxjv-5gpq",
        "status": "not_affected",
        "products": ["pkg:pypi/Flask@2.3.1"],
    }
    assert check(client, vex=[statement])["scan_status"] == "passed"
    other = statement | {"products": ["pkg:pypi/flask@2.3.0"]}
    assert check(client, vex=[other])["scan_status"] == "failed"
    bad = client.post(
        "/api/v1/check",
        json={"dependencies": [], "vex": [statement | {"status": "affected"}]},
    )
    assert bad.status_code == 400


def test_bad_triage_is_a_400_naming_the_field_and_stores_nothing(
    client: Any, tokens: dict[str, str]
) -> None:
    reviewer = tokens["reviewer"]
    for fields, field in (
        ({"justification": None}, "justification"),
        ({"justification": "it is fine"}, "justification"),
        ({"state": "accepted_risk"}, "justification"),
        ({"state": "ignored"}, "state"),
        ({"advisory": ""}, "advisory"),
        ({"range": "[1.0"}, "range"),
        ({"ecosystem": "nuget"}, "ecosystem"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ):
        response = decide(client, reviewer, **fields)
        assert response.status_code == 400, (fields, response.text)
        assert response.json()["errors"][0]["field"] == field
    assert decide(client, tokens["submitter"]).status_code == 403
    assert client.get(TRIAGE).status_code == 401
    assert client.get(TRIAGE, headers=key(reviewer)).json() == {"triage": []}
