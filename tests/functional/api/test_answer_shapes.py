"""The keys of each answer, in the order clients see them.

The answers of reviews, licenses, the policy, the vulnerability database, failed
jobs, blocked index requests, enrichment and the gate are typed records of
their services (``reviews/records.py``, ``licenses/records.py``, ...). A field
renamed, dropped, added or moved in one of them shows here first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from foss_registry.db import write_transaction
from foss_registry.index import gate
from foss_registry.jobs import queue
from foss_registry.scans.service import IMPORT_RESCANS
from foss_registry.vulns import service as vulndb
from tests.conftest import SHARED_DATA
from tests.functional.conftest import key, submit

LIST_ITEM = [
    "name",
    "version",
    "ecosystem",
    "status",
    "license",
    "submitted_by",
    "submitted_at",
    "flags",
    "decision",
    "by",
    "at",
    "comment",
    "reasons",
    "scan_status",
    "acknowledged",
]


def test_review_answers(client: Any, tokens: dict[str, str]) -> None:
    submit(client, tokens["submitter"], license="MIT")
    submit(client, tokens["submitter"], version="2.3.1", license="MIT")
    decided = client.post(
        "/api/v1/reviews",
        json={"ecosystem": "pypi", "name": "flask", "version": "2.3.0", "decision": "approve"},
        headers=key(tokens["reviewer"]),
    )
    assert decided.status_code == 201, decided.text
    assert list(decided.json()) == [
        "decision",
        "by",
        "comment",
        "package",
        "scan_status",
        "acknowledged",
        "warnings",
    ]
    assert decided.json()["package"]["version"] == "2.3.0"

    page = client.get("/api/v1/reviews").json()
    assert list(page) == ["reviews", "total", "limit", "offset"]
    # The decision and the version still waiting for one.
    assert [list(item) for item in page["reviews"]] == [LIST_ITEM, LIST_ITEM]
    assert [(r["version"], r["decision"]) for r in page["reviews"]] == [
        ("2.3.0", "approve"),
        ("2.3.1", None),
    ]


def test_license_answers(client: Any) -> None:
    page = client.get("/api/v1/licenses", params={"limit": 2}).json()
    assert list(page) == ["licenses", "total", "limit", "offset"]
    assert list(page["licenses"][0]) == [
        "name",
        "full_name",
        "category",
        "status",
        "osi_approved",
        "deprecated",
        "kind",
        "url",
    ]
    mit = client.get("/api/v1/licenses/mit").json()
    assert list(mit) == [
        "name",
        "status",
        "category",
        "compatible_with",
        "incompatible_with",
        "requires_attribution",
        "allows_commercial",
        "url",
        "full_name",
        "kind",
        "osi_approved",
        "fsf_libre",
        "deprecated",
        "replaced_by",
        "compatibility_unknown",
        "compatibility_known",
    ]
    assert (mit["name"], mit["status"], mit["category"]) == ("MIT", "approved", "permissive")
    answer = client.get(
        "/api/v1/licenses/compatibility",
        params={"outbound": "GPL-3.0-only", "expression": "MIT OR Apache-2.0"},
    ).json()
    assert list(answer) == ["answer", "outbound", "expression", "reasons"]
    assert answer["answer"] == "yes"


def test_policy_answers(client: Any, tokens: dict[str, str]) -> None:
    keys = [
        "auto_approve",
        "categories",
        "licenses",
        "signals",
        "source",
        "updated_at",
        "updated_by",
    ]
    assert list(client.get("/api/v1/policy").json()) == keys
    replaced = client.put(
        "/api/v1/policy", json={"licenses": {"MIT": "restricted"}}, headers=key(tokens["admin"])
    )
    assert replaced.status_code == 200, replaced.text
    assert list(replaced.json()) == keys
    assert replaced.json()["source"] == "api" and replaced.json()["updated_by"] == "adam"
    # The license list reads the new policy.
    mit = client.get("/api/v1/licenses/MIT").json()
    assert mit["status"] == "restricted"
    reset = client.delete("/api/v1/policy", headers=key(tokens["admin"]))
    assert list(reset.json()) == keys and reset.json()["source"] == "default"


def test_admin_reads(client: Any, engine: Engine, tokens: dict[str, str]) -> None:
    vulndb.import_path(engine, SHARED_DATA / "osv" / "GHSA-PyPI.zip", rescans=IMPORT_RESCANS)
    with write_transaction(engine) as conn:
        queue.enqueue(conn, "no-such-kind", {"n": 1}, max_attempts=1)
        gate.record_blocked(
            conn,
            ecosystem="pypi",
            name="left",
            version="1.0",
            file="left-1.0.tar.gz",
            status="not submitted",
            mode="enforce",
            client="127.0.0.1",
        )
    with write_transaction(engine) as conn:
        job = queue.claim(conn, "shapes", 30)
        assert job is not None and queue.fail(conn, job, "shapes", "no handler") == "failed"
    admin = key(tokens["admin"])

    status = client.get("/api/v1/vulndb/status", headers=admin).json()
    assert list(status) == [
        "records",
        "withdrawn",
        "newest_modified",
        "age_days",
        "stale",
        "last_imported_at",
        "ecosystems",
    ]
    [pypi] = status["ecosystems"]
    assert list(pypi) == [
        "ecosystem",
        "records",
        "sources",
        "newest_modified",
        "last_imported_at",
        "age_days",
        "stale",
    ]
    assert pypi["sources"] == {"GHSA": {"records": 2, "withdrawn": 0}}

    failed = client.get("/api/v1/jobs/failed", headers=admin).json()
    assert list(failed) == ["jobs", "limit", "offset"]
    [parked] = failed["jobs"]
    assert list(parked) == [
        "id",
        "kind",
        "payload",
        "attempts",
        "last_error",
        "created_at",
        "finished_at",
    ]
    assert (parked["payload"], parked["last_error"]) == ({"n": 1}, "no handler")

    blocked = client.get("/api/v1/index/blocked", headers=admin).json()
    assert list(blocked) == ["blocked", "total", "limit", "offset"]
    assert list(blocked["blocked"][0]) == [
        "ecosystem",
        "name",
        "version",
        "file",
        "status",
        "mode",
        "at",
        "client",
    ]


def test_enrich_and_check_answers(client: Any, tokens: dict[str, str]) -> None:
    submit(client, tokens["submitter"], license="MIT")
    queued = client.post(
        "/api/v1/enrich", json={"ecosystem": "PyPI", "name": "flask"}, headers=key(tokens["admin"])
    )
    assert queued.status_code == 202, queued.text
    assert queued.json() == {"ecosystem": "pypi", "name": "flask", "queued": ["2.3.0"]}

    checked = client.post(
        "/api/v1/check",
        json={"dependencies": [{"name": "flask", "ecosystem": "pypi", "version": "2.3.0"}]},
    ).json()
    assert list(checked) == ["dependencies", "summary"]
    assert list(checked["dependencies"][0]) == [
        "name",
        "version",
        "ecosystem",
        "status",
        "nearest_approved",
        "scan_status",
        "worst_severity",
        "license",
        "license_status",
        "severity",
        "note",
        "flags",
        "findings",
        "verdict",
    ]
    assert list(checked["summary"]) == [
        "total",
        "approved",
        "pending",
        "rejected",
        "unknown",
        "failing",
        "result",
    ]
    assert checked["summary"]["pending"] == 1
