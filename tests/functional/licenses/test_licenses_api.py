"""License facts, compatibility and the policy over HTTP, on the real packaged data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from foss_registry.wiring import new_worker
from tests.functional.api.test_packages import assert_problem
from tests.functional.conftest import key, submit


def test_apache_facts_in_the_seed_shape(client: Any) -> None:
    body = client.get("/api/v1/licenses/apache-2.0").json()
    assert body["name"] == "Apache-2.0"
    assert body["status"] == "approved"
    assert body["category"] == "permissive"
    assert body["requires_attribution"] is True and body["allows_commercial"] is True
    assert body["osi_approved"] is True and body["deprecated"] is False
    assert body["full_name"] == "Apache License 2.0"
    assert body["url"].endswith("Apache-2.0.html")
    # Apache-2.0 code may go into a GPL-3.0-only work, not a GPL-2.0-only one.
    assert "GPL-3.0-only" in body["compatible_with"]
    assert "GPL-2.0-only" in body["incompatible_with"]
    assert body["compatibility_known"] is True


def test_categories_and_statuses_of_common_licenses(client: Any) -> None:
    expected = {
        "GPL-3.0-only": ("strong_copyleft", "restricted"),
        "AGPL-3.0-or-later": ("network_copyleft", "rejected"),
        "LGPL-2.1-only": ("weak_copyleft", "restricted"),
        "MPL-2.0": ("weak_copyleft", "restricted"),
        "CC0-1.0": ("public_domain", "approved"),
        "MIT": ("permissive", "approved"),
    }
    for license_id, (category, status) in expected.items():
        body = client.get(f"/api/v1/licenses/{license_id}").json()
        assert (body["category"], body["status"]) == (category, status), license_id
    nc = client.get("/api/v1/licenses/CC-BY-NC-4.0").json()
    assert nc["allows_commercial"] is False
    cc0 = client.get("/api/v1/licenses/CC0-1.0").json()
    assert cc0["requires_attribution"] is False


def test_deprecated_and_unknown_ids(client: Any) -> None:
    old = client.get("/api/v1/licenses/GPL-3.0").json()
    assert old["deprecated"] is True and old["replaced_by"] == "GPL-3.0-only"
    problem = assert_problem(client.get("/api/v1/licenses/Apache-2"), 404)
    assert "Apache-2.0" in problem["detail"]


def test_list_filters_by_category_and_status(client: Any) -> None:
    network = client.get(
        "/api/v1/licenses", params={"category": "network_copyleft", "limit": 1000}
    ).json()
    names = {lic["name"] for lic in network["licenses"]}
    assert {"AGPL-3.0-only", "SSPL-1.0"} <= names
    assert all(lic["status"] == "rejected" for lic in network["licenses"])
    approved = client.get("/api/v1/licenses", params={"status": "approved", "limit": 1000}).json()
    assert "MIT" in {lic["name"] for lic in approved["licenses"]}
    assert approved["total"] > 100
    assert_problem(client.get("/api/v1/licenses", params={"category": "copyleftish"}), 400)


def test_compatibility_check_explains_itself(client: Any) -> None:
    answer = client.get(
        "/api/v1/licenses/compatibility",
        params={"outbound": "Apache-2.0", "expression": "MIT OR GPL-3.0-only"},
    ).json()
    assert answer["answer"] == "yes"
    assert any("MIT" in r for r in answer["reasons"])
    no = client.get(
        "/api/v1/licenses/compatibility",
        params={"outbound": "GPL-2.0-only", "expression": "Apache-2.0"},
    ).json()
    assert no["answer"] == "no"
    assert_problem(
        client.get(
            "/api/v1/licenses/compatibility", params={"outbound": "MIT", "expression": "Nope-1.0"}
        ),
        400,
    )


def test_submission_license_is_validated_and_normalised(
    client: Any, tokens: dict[str, str]
) -> None:
    record = submit(client, tokens["submitter"], license="MIT License").json()
    assert record["license"] == "MIT"
    bad = submit(client, tokens["submitter"], version="2.3.1", license="Apache-2.0 OR MTI")
    problem = assert_problem(bad, 400, "invalid_license")
    assert "MIT" in problem["detail"]
    assert client.get("/api/v1/packages", params={"search": "flask"}).json()["total"] == 1


def test_policy_rejects_forbidden_license_with_reasons(
    client: Any, tokens: dict[str, str], engine: Engine
) -> None:
    submit(client, tokens["submitter"], name="mongo-thing", version="1.0", license="SSPL-1.0")
    submit(client, tokens["submitter"], name="no-license", version="1.0")
    new_worker(engine).run_until_idle()
    rejected = client.get("/api/v1/packages/mongo-thing").json()
    assert rejected["status"] == "rejected"
    assert rejected["rejected_by"] == "policy"
    assert rejected["reviews"][0]["by"] == "policy"
    assert any("SSPL-1.0" in r for r in rejected["reviews"][0]["reasons"])
    pending = client.get("/api/v1/packages/no-license").json()
    assert pending["status"] == "pending"
    assert "no license declared" in pending["policy_reasons"]
    # A reviewer can overrule the policy.
    overruled = client.post(
        "/api/v1/reviews",
        json={
            "ecosystem": "pypi",
            "name": "mongo-thing",
            "version": "1.0",
            "decision": "approve",
            "comment": "internal use only, legal agreed",
        },
        headers=key(tokens["reviewer"]),
    ).json()["package"]
    assert overruled["status"] == "approved"
    assert [r["by"] for r in overruled["reviews"]] == ["policy", "rita"]


def test_admin_changes_policy_and_pending_versions_are_re_evaluated(
    client: Any, tokens: dict[str, str], engine: Engine
) -> None:
    submit(client, tokens["submitter"], name="gpl-lib", version="1.0", license="GPL-3.0-only")
    submit(client, tokens["submitter"], name="mit-lib", version="1.0", license="MIT")
    new_worker(engine).run_until_idle()
    assert client.get("/api/v1/packages/gpl-lib").json()["status"] == "pending"
    client.post(
        "/api/v1/reviews",
        json={"ecosystem": "pypi", "name": "mit-lib", "version": "1.0", "decision": "approve"},
        headers=key(tokens["reviewer"]),
    )
    document = {
        "auto_approve": False,
        "categories": {"strong_copyleft": "rejected"},
        "licenses": {"MIT": "rejected"},
    }
    assert_problem(
        client.put("/api/v1/policy", json=document, headers=key(tokens["reviewer"])), 403
    )
    changed = client.put("/api/v1/policy", json=document, headers=key(tokens["admin"]))
    assert changed.status_code == 200, changed.text
    assert changed.json()["source"] == "api" and changed.json()["updated_by"] == "adam"
    assert client.get("/api/v1/licenses/GPL-3.0-only").json()["status"] == "rejected"
    new_worker(engine).run_until_idle()
    assert client.get("/api/v1/packages/gpl-lib").json()["status"] == "rejected"
    # An approved version that newly violates the policy is flagged, not revoked.
    mit = client.get("/api/v1/packages/mit-lib").json()
    assert mit["status"] == "approved" and "license_rejected" in mit["flags"]
    bad = client.put(
        "/api/v1/policy", json={"categories": {"permissive": "maybe"}}, headers=key(tokens["admin"])
    )
    assert_problem(bad, 400, "invalid_policy")
    reverted = client.delete("/api/v1/policy", headers=key(tokens["admin"])).json()
    assert reverted["source"] == "default"
    assert client.get("/api/v1/licenses/GPL-3.0-only").json()["status"] == "restricted"
