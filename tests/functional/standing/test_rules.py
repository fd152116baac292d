"""Range approvals over HTTP: validation, what a live rule approves, and what it never does."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from tests.functional.conftest import submit
from tests.functional.standing.conftest import created, key, package
from tests.functional.vulns.conftest import run_jobs

RULES = "/api/v1/approval-rules"


def rule(client: Any, token: str, **fields: Any) -> Any:
    body = {"ecosystem": "pypi", "name": "flask", "range": ">=2.3,<2.4"} | fields
    return client.post(RULES, json=body, headers=key(token))


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_new_version_inside_a_live_rule_is_approved_with_the_rule_in_its_history(
    client: Any, engine: Engine, tokens: dict[str, str], pypi_advisories: None
) -> None:
    made = created(rule(client, tokens["reviewer"], range="<2.4, >=2.3", comment="2.3 line"))
    assert made["range"] == "<2.4,>=2.3" and made["live"] and made["created_by"] == "rita"
    for version, license in (("2.3.2", "BSD-3-Clause"), ("2.3.3", None), ("2.4.0", "MIT")):
        fields = {"version": version} | ({"license": license} if license else {})
        assert submit(client, tokens["submitter"], **fields).status_code == 201
    # 2.3.1 lies in the rule but PYSEC-2023-62 (CVE-2023-30861) fails its scan.
    assert submit(client, tokens["submitter"], version="2.3.1", license="MIT").status_code == 201
    run_jobs(engine)

    approved = package(client, "flask", "2.3.2")
    assert approved["status"] == "approved"
    assert approved["approved_by"] == "rita"
    assert approved["reviews"][-1]["by"] == f"rule:{made['id']}"
    # Without a license, outside the range, or with a failing scan: a person decides.
    assert package(client, "flask", "2.3.3")["status"] == "pending"
    assert package(client, "flask", "2.4.0")["status"] == "pending"
    assert package(client, "flask", "2.3.1")["status"] == "pending"


def test_a_rule_is_not_retroactive_unless_asked(
    client: Any, engine: Engine, tokens: dict[str, str], pypi_advisories: None
) -> None:
    for version in ("2.3.2", "2.3.3"):
        submit(client, tokens["submitter"], version=version, license="MIT")
    run_jobs(engine)
    created(rule(client, tokens["reviewer"]))
    run_jobs(engine)
    assert package(client, "flask", "2.3.2")["status"] == "pending"

    again = created(rule(client, tokens["admin"], range="==2.3.3", apply_to_existing=True))
    assert again["approved"] == 1
    record = package(client, "flask", "2.3.3")
    assert record["status"] == "approved" and record["approved_by"] == "adam"
    assert record["reviews"][-1]["by"] == f"rule:{again['id']}"
    assert package(client, "flask", "2.3.2")["status"] == "pending"


def test_an_ended_or_expired_rule_approves_nothing(
    client: Any, engine: Engine, tokens: dict[str, str], pypi_advisories: None
) -> None:
    ended = created(rule(client, tokens["reviewer"]))
    response = client.delete(f"{RULES}/{ended['id']}", headers=key(tokens["reviewer"]))
    assert response.status_code == 200 and response.json()["live"] is False
    expiring = created(rule(client, tokens["reviewer"], expires_at=later(1.5)))
    assert expiring["expires_at"] is not None
    time.sleep(2)
    submit(client, tokens["submitter"], version="2.3.2", license="MIT")
    run_jobs(engine)
    assert package(client, "flask", "2.3.2")["status"] == "pending"
    listed = client.get(RULES, headers=key(tokens["submitter"])).json()["rules"]
    assert listed == []
    everything = client.get(
        RULES, params={"include_ended": "true"}, headers=key(tokens["submitter"])
    ).json()["rules"]
    assert {r["id"] for r in everything} == {ended["id"], expiring["id"]}


def test_rules_for_each_ecosystem_are_shown_normalised(client: Any, tokens: dict[str, str]) -> None:
    cases = [
        ("npm", "lodash", "^4.17.0", ">=4.17.0 <5.0.0"),
        ("maven", "org.apache.logging.log4j:log4j-core", "[2.17.1, 3.0)", "[2.17.1,3.0)"),
        ("docker", "nginx", "1.25.*", "1.25.*"),
        # A rule may name a package the registry does not know yet.
        ("pypi", "Not_Yet-Known", "~=1.0", "~=1.0"),
    ]
    for ecosystem, name, given, shown in cases:
        made = created(
            rule(client, tokens["reviewer"], ecosystem=ecosystem, name=name, range=given)
        )
        assert made["range"] == shown


def test_bad_rules_are_400s_naming_the_field_and_store_nothing(
    client: Any, tokens: dict[str, str]
) -> None:
    reviewer = tokens["reviewer"]
    for fields, field in (
        ({"range": ">>2"}, "range"),
        ({"ecosystem": "npm", "range": "not a range"}, "range"),
        ({"ecosystem": "maven", "name": "g:a", "range": "[2.0,1.0)"}, "range"),
        ({"ecosystem": "cargo"}, "ecosystem"),
        ({"name": "bad name!"}, "name"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "tomorrow"}, "expires_at"),
    ):
        response = rule(client, reviewer, **fields)
        assert response.status_code == 400, (fields, response.text)
        problem = response.json()
        assert problem["errors"][0]["field"] == field, problem
    assert client.get(RULES, headers=key(reviewer)).json() == {"rules": []}


def test_roles(client: Any, tokens: dict[str, str]) -> None:
    assert rule(client, tokens["submitter"]).status_code == 403
    assert client.get(RULES).status_code == 401
    made = created(rule(client, tokens["reviewer"]))
    assert client.get(RULES, headers=key(tokens["submitter"])).status_code == 200
    gone = client.delete(f"{RULES}/{made['id']}", headers=key(tokens["submitter"]))
    assert gone.status_code == 403
    assert client.delete(f"{RULES}/999", headers=key(tokens["reviewer"])).status_code == 404


def test_a_signal_at_review_keeps_a_version_in_a_rule_pending(
    client: Any,
    engine: Engine,
    tokens: dict[str, str],
    pypi_advisories: None,
    monkeypatch: Any,
) -> None:
    # No upstream is read; the typosquatting check runs all the same.
    for ecosystem in ("PYPI", "NPM", "MAVEN"):
        monkeypatch.delenv(f"FOSS_UPSTREAM_{ecosystem}", raising=False)
    created(rule(client, tokens["reviewer"], name="reqeusts", range=">=1.0"))
    submit(client, tokens["submitter"], name="reqeusts", version="1.0", license="MIT")
    run_jobs(engine)
    record = package(client, "reqeusts", "1.0")
    assert {s["code"]: s["level"] for s in record["signals"]}.get("typosquat") == "review", record
    assert record["status"] == "pending"
