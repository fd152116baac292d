"""``POST /api/v1/check``: the gate's batch lookup, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, update

from foss_registry.db import write_transaction
from foss_registry.packages.models import package_versions
from tests.functional.catalogue import add_version, standard_catalogue

FIELDS = {
    "name",
    "version",
    "ecosystem",
    "status",
    "nearest_approved",
    "scan_status",
    "worst_severity",
    "license",
    "license_status",
    "flags",
    "findings",
    "verdict",
}


def check(client: Any, *deps: dict[str, Any]) -> Any:
    return client.post("/api/v1/check", json={"dependencies": list(deps)})


def dep(name: str, version: str | None, ecosystem: str = "pypi") -> dict[str, Any]:
    return {"name": name, "version": version, "ecosystem": ecosystem}


def test_answers_each_dependency_with_the_registry_status_in_request_order(
    client: Any, engine: Engine
) -> None:
    standard_catalogue(engine)
    response = check(
        client,
        dep("requests", "2.31.0"),
        dep("flask", "3.0.0"),
        dep("urllib3", "1.26.0"),
        dep("left-pad", "1.3.0", "npm"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    results = body["dependencies"]
    assert [r["status"] for r in results] == ["approved", "pending", "rejected", "unknown"]
    assert [r["name"] for r in results] == ["requests", "flask", "urllib3", "left-pad"]
    for r in results:
        assert set(r) >= FIELDS
    assert body["summary"] == {
        "total": 4,
        "approved": 1,
        "pending": 1,
        "rejected": 1,
        "unknown": 1,
        "failing": 3,
        "result": "failed",
    }
    assert [r["verdict"] for r in results] == ["approved", "pending", "rejected", "unknown"]
    approved = results[0]
    assert approved["license"] == "Apache-2.0"
    assert approved["license_status"] == "approved"
    assert approved["nearest_approved"] is None
    assert approved["scan_status"] == "pending"  # queued at submission, no worker here
    unknown = results[3]
    assert unknown["scan_status"] is None and unknown["license"] is None


def test_matches_normalised_names_and_canonical_versions(client: Any, engine: Engine) -> None:
    add_version(engine, "pypi", "zope.interface", "6.2.0")
    add_version(engine, "npm", "@babel/core", "7.24.0")
    add_version(engine, "docker", "nginx", "1.25.3")
    results = check(
        client,
        dep("Zope_Interface", "6.2"),
        dep("@babel/core", "v7.24.0", "NPM"),
        dep("docker.io/library/nginx", "1.25.3", "docker"),
    ).json()["dependencies"]
    assert [r["status"] for r in results] == ["approved"] * 3
    # Names and versions are echoed as sent, so a client can match its own entries.
    assert results[0]["name"] == "Zope_Interface" and results[0]["version"] == "6.2"
    assert results[1]["ecosystem"] == "npm"


def test_nearest_approved_prefers_the_highest_below_then_the_lowest_above(
    client: Any, engine: Engine
) -> None:
    for version in ("2.0.0", "2.9.0", "2.10.0", "3.0.0"):
        add_version(engine, "pypi", "django", version)
    add_version(engine, "pypi", "django", "2.11.0", "pending")
    results = check(
        client,
        dep("django", "2.11.0"),
        dep("django", "2.10.5"),
        dep("django", "1.11"),
        dep("django", None),
    ).json()["dependencies"]
    assert [r["nearest_approved"] for r in results] == ["2.10.0", "2.10.0", "2.0.0", "3.0.0"]
    assert results[1]["status"] == "unknown"
    assert "other versions" in results[1]["note"]
    assert results[3]["note"] == "no version given"


def test_scan_status_and_worst_severity_come_from_the_latest_scan(
    client: Any, engine: Engine
) -> None:
    add_version(engine, "pypi", "urllib3", "2.2.1", severity={"high": 1, "low": 2})
    add_version(engine, "pypi", "idna", "3.6", severity={"unknown": 1})
    add_version(engine, "pypi", "six", "1.16.0", severity={})
    results = check(
        client, dep("urllib3", "2.2.1"), dep("idna", "3.6"), dep("six", "1.16.0")
    ).json()["dependencies"]
    assert [(r["scan_status"], r["worst_severity"]) for r in results] == [
        ("failed", "high"),
        ("failed", "unknown"),
        ("passed", None),
    ]
    assert results[0]["severity"]["low"] == 2


def test_findings_of_approved_versions_and_the_default_gate(client: Any, engine: Engine) -> None:
    # Approved, then a scan found a high finding nobody acknowledged: the gate fails it.
    add_version(engine, "pypi", "urllib3", "2.2.1", severity={"high": 1, "low": 1})
    # Approved knowing its high finding: passes.
    add_version(engine, "pypi", "idna", "3.6", severity={"high": 1}, acknowledge=True)
    # A pending version with a critical finding is pending, not vulnerable.
    add_version(engine, "pypi", "six", "1.16.0", "pending", severity={"critical": 1})
    with write_transaction(engine) as conn:
        conn.execute(
            update(package_versions)
            .where(package_versions.c.normalized_name == "idna")
            .values(flags=["new_vulnerability"])
        )
    add_version(engine, "pypi", "certifi", "2024.2.2", severity={"high": 1}, acknowledge=True)
    body = check(
        client,
        dep("urllib3", "2.2.1"),
        dep("idna", "3.6"),
        dep("six", "1.16.0"),
        dep("certifi", "2024.2.2"),
    ).json()
    urllib3, idna, six, certifi = body["dependencies"]
    assert urllib3["findings"] == [
        {
            "id": "GHSA-test-high-0",
            "aliases": [],
            "severity": "high",
            "acknowledged": False,
            "triaged": False,
        },
        {
            "id": "GHSA-test-low-0",
            "aliases": [],
            "severity": "low",
            "acknowledged": False,
            "triaged": False,
        },
    ]
    assert urllib3["verdict"] == "vulnerable"
    # Acknowledged, but flagged since: fails on the flag.
    assert idna["findings"][0]["acknowledged"] is True and idna["flags"] == ["new_vulnerability"]
    assert idna["verdict"] == "vulnerable"
    assert six["verdict"] == "pending" and six["findings"][0]["severity"] == "critical"
    assert certifi["verdict"] == "approved" and certifi["findings"][0]["acknowledged"] is True
    assert (body["summary"]["failing"], body["summary"]["result"]) == (3, "failed")


def test_invalid_entries_are_unknown_with_a_note_and_do_not_fail_the_batch(
    client: Any, engine: Engine
) -> None:
    add_version(engine, "pypi", "requests", "2.31.0")
    response = check(
        client,
        dep("requests", "2.31.0"),
        dep("requests", "not a version!"),
        dep("bad name!", "1.0"),
        dep("serde", "1.0.0", "cargo"),
    )
    assert response.status_code == 200
    results = response.json()["dependencies"]
    assert [r["status"] for r in results] == ["approved", "unknown", "unknown", "unknown"]
    assert "PEP 440" in results[1]["note"]
    assert results[1]["nearest_approved"] == "2.31.0"
    assert "name" in results[2]["note"].lower()
    assert "cargo" in results[3]["note"]


def test_license_status_follows_the_policy_in_force(
    client: Any, engine: Engine, tokens: dict[str, str]
) -> None:
    add_version(engine, "pypi", "gpl-lib", "1.0", license="GPL-3.0-only")
    add_version(engine, "pypi", "nolicense", "1.0", "pending", license=None)
    before = check(client, dep("gpl-lib", "1.0")).json()["dependencies"][0]["license_status"]
    policy = {"categories": {"strong_copyleft": "rejected"}}
    put = client.put("/api/v1/policy", json=policy, headers={"X-API-Key": tokens["admin"]})
    assert put.status_code == 200, put.text
    results = check(client, dep("gpl-lib", "1.0"), dep("nolicense", "1.0")).json()
    # The default policy leaves strong copyleft to a reviewer; the new one rejects it.
    assert before == "restricted"
    assert results["dependencies"][0]["license_status"] == "rejected"
    # No license declared: a reviewer decides (the policy's "restricted").
    assert results["dependencies"][1]["license_status"] == "restricted"


def test_a_thousand_dependencies_in_one_request(client: Any, engine: Engine) -> None:
    add_version(engine, "npm", "lodash", "4.17.21")
    deps = [dep(f"pkg-{i}", "1.0.0", "npm") for i in range(999)] + [dep("lodash", "4.17.21", "npm")]
    body = check(client, *deps).json()
    assert body["summary"]["total"] == 1000
    assert body["summary"]["approved"] == 1
    assert body["dependencies"][-1]["status"] == "approved"


def test_is_public(client: Any) -> None:
    assert check(client, dep("requests", "1.0")).status_code == 200


def test_more_than_five_thousand_is_a_clear_400(client: Any) -> None:
    deps = [dep(f"p{i}", "1.0") for i in range(5001)]
    response = check(client, *deps)
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "too_many_dependencies"
    assert "5,000" in problem["detail"] and "5,001" in problem["detail"]


def test_bodies_up_to_four_mib_are_read_and_larger_ones_refused(client: Any) -> None:
    # 5,000 entries with long (invalid) names: about 2 MiB, over the API's usual 1 MiB.
    deps = [dep(f"{'x' * 350}{i}", "1.0") for i in range(5000)]
    raw = json.dumps({"dependencies": deps})
    assert 1024 * 1024 < len(raw) < 4 * 1024 * 1024
    headers = {"Content-Type": "application/json"}
    response = client.post("/api/v1/check", content=raw, headers=headers)
    assert response.status_code == 200
    assert response.json()["summary"]["unknown"] == 5000
    big = json.dumps({"dependencies": [dep("x" * 5000, "1.0")] * 900})
    assert len(big) > 4 * 1024 * 1024
    refused = client.post("/api/v1/check", content=big, headers=headers)
    assert refused.status_code == 413
    assert refused.json()["detail"].endswith("4 MiB.")


def test_a_body_of_the_wrong_shape_is_a_400(client: Any) -> None:
    assert client.post("/api/v1/check", json={"deps": []}).status_code == 400
    response = client.post(
        "/api/v1/check", json={"dependencies": [{"name": "x", "version": 1, "ecosystem": "pypi"}]}
    )
    assert response.status_code == 400
    assert "version" in response.json()["detail"]
    empty = client.post("/api/v1/check", json={"dependencies": []})
    assert empty.status_code == 200 and empty.json()["summary"]["total"] == 0
