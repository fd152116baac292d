"""Scans over HTTP against a vulnerability database loaded from the shared OSV data."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from foss_registry.db import write_transaction
from foss_registry.packages import service as packages
from foss_registry.vulns import osv
from tests.functional.conftest import key, submit
from tests.functional.vulns.conftest import import_all, osv_dir, run_jobs

LOG4J = "org.apache.logging.log4j:log4j-core"
MATCHER = "foss-registry-osv-matcher"


def scan(client: Any, name: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/security/scans/{name}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in report["vulnerabilities"]}


def newest_modified(paths: list[Path], ecosystem: str) -> str:
    """The newest `modified` of the records naming a package of one ecosystem."""
    newest = max(
        record.modified
        for path in paths
        for record in osv.iter_records(path)
        if any(e == ecosystem for e, _ in osv.affected_packages(record))
    )
    return newest.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_done_means_real_advisories_malware_and_a_clean_version(
    client: Any, engine: Engine, tokens: dict[str, str], selected_data: list[Path]
) -> None:
    import_all(engine, selected_data)
    submitter = tokens["submitter"]
    for body in (
        {"name": "Flask", "version": "2.3.1", "ecosystem": "pypi"},
        {"name": "flask", "version": "2.3.2", "ecosystem": "pypi"},
        {"name": "lodash", "version": "4.17.11", "ecosystem": "npm"},
        {"name": LOG4J, "version": "2.14.1", "ecosystem": "maven"},
        {"name": "requeests", "version": "1.0.0", "ecosystem": "pypi"},
    ):
        assert submit(client, submitter, **body).status_code == 201
    # Queued in the submission's transaction: pending until the worker has run it.
    pending = scan(client, "flask", version="2.3.1")
    assert pending["status"] == "pending" and pending["scan_date"] is None

    assert run_jobs(engine) == 10  # a scan and an enrichment per submission

    flask = scan(client, "flask", version="2.3.1")
    assert flask["status"] == "failed"
    assert flask["tools_used"] == [MATCHER]
    assert flask["scan_date"].endswith("Z")
    (finding,) = flask["vulnerabilities"]
    assert finding["id"] == "PYSEC-2023-62"
    assert finding["aliases"] == ["CVE-2023-30861", "GHSA-m2qf-hxjv-5gpq"]
    assert "2.3.2" in finding["fixed_versions"]
    # PyPA records carry no rating: unknown, which fails at any threshold.
    assert (finding["severity"], finding["cvss"], finding["malicious"]) == ("unknown", None, False)
    assert "https://github.com/pallets/flask/releases/tag/2.3.2" in finding["references"]
    assert flask["severity"] == {"critical": 0, "high": 0, "medium": 0, "low": 0, "unknown": 1}
    assert flask["database"]["updated_at"] == newest_modified(selected_data, "pypi")
    assert flask["database"]["age_days"] > 0

    clean = scan(client, "flask", version="2.3.2")
    assert clean["status"] == "passed"
    assert clean["vulnerabilities"] == [] and clean["reason"] is None
    assert clean["tools_used"] == [MATCHER]
    assert clean["database"]["updated_at"] == newest_modified(selected_data, "pypi")

    lodash = by_id(scan(client, "lodash", ecosystem="npm", version="4.17.11"))
    assert set(lodash) == {"GHSA-jf85-cpcp-j695", "GHSA-p6mc-m468-83gw"}
    prototype = lodash["GHSA-jf85-cpcp-j695"]
    assert prototype["severity"] == "critical" and prototype["aliases"] == ["CVE-2019-10744"]
    assert prototype["cvss"]["score"] == 9.1 and prototype["cvss"]["version"] == "3.1"
    assert prototype["fixed_versions"] == ["4.17.12"]
    assert lodash["GHSA-p6mc-m468-83gw"]["severity"] == "high"

    log4j = scan(client, LOG4J, version="2.14.1")
    assert log4j["status"] == "failed"
    (log4shell,) = log4j["vulnerabilities"]
    assert (log4shell["id"], log4shell["aliases"]) == ("GHSA-jfh8-c2jp-5v3q", ["CVE-2021-44228"])
    assert log4shell["severity"] == "critical"
    assert log4shell["cvss"] == {
        "version": "3.1",
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        "score": 10.0,
    }
    assert log4shell["fixed_versions"] == ["2.15.0"]
    assert log4j["severity"]["critical"] == 1

    malware = scan(client, "requeests")
    assert malware["status"] == "failed"
    (bad,) = malware["vulnerabilities"]
    assert bad["id"] == "MAL-2022-7436" and bad["malicious"] is True
    assert bad["severity"] == "critical"
    assert "Malicious" in malware["reason"] and "MAL-2022-7436" in malware["reason"]


def test_empty_database_is_not_scanned_with_the_reason(
    client: Any, engine: Engine, tokens: dict[str, str]
) -> None:
    assert submit(client, tokens["submitter"], version="2.3.1").status_code == 201
    run_jobs(engine)
    report = scan(client, "flask")
    assert report["status"] == "not_scanned"
    assert "foss vulndb import" in report["reason"]
    assert report["database"] is None and report["tools_used"] == []
    assert report["vulnerabilities"] == []


def test_an_ecosystem_without_data_is_not_reported_clean(
    client: Any, engine: Engine, tokens: dict[str, str], shared_data: Path
) -> None:
    import_all(engine, [osv_dir(shared_data) / "GHSA-PyPI.zip"])
    response = submit(
        client, tokens["submitter"], name="lodash", version="4.17.11", ecosystem="npm"
    )
    assert response.status_code == 201
    run_jobs(engine)
    report = scan(client, "lodash")
    assert report["status"] == "not_scanned"
    assert "no npm advisories" in report["reason"]


def test_scan_selection_rules(client: Any, engine: Engine, tokens: dict[str, str]) -> None:
    missing = client.get("/api/v1/security/scans/no-such-package")
    assert missing.status_code == 404 and missing.json()["code"] == "package_not_found"
    # A version stored without a scan (e.g. before scans existed) is a 200 not_scanned.
    with write_transaction(engine) as conn:
        packages.submit(
            conn,
            packages.Submission(name="left-pad", version="1.3.0", ecosystem="npm"),
            submitted_by="alice",
            license_expression=None,
        )
    never = scan(client, "left-pad")
    assert (never["status"], never["history"]) == ("not_scanned", [])
    assert submit(client, tokens["submitter"], name="left-pad", version="1.3.0").status_code == 201
    ambiguous = client.get("/api/v1/security/scans/left-pad")
    assert ambiguous.status_code == 400 and ambiguous.json()["code"] == "ambiguous_package"
    assert scan(client, "left-pad", ecosystem="pypi")["status"] == "pending"
    unknown_version = client.get("/api/v1/security/scans/left-pad?ecosystem=npm&version=9.9.9")
    assert unknown_version.status_code == 404


def test_fail_threshold_is_configurable_but_unknown_and_malware_always_fail(
    client: Any,
    engine: Engine,
    tokens: dict[str, str],
    selected_data: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FOSS_SCAN_FAIL_SEVERITY", "critical")
    import_all(engine, selected_data)
    for name, version in (("requests", "2.31.0"), ("flask", "2.3.1"), ("requeests", "1.0.0")):
        assert submit(client, tokens["submitter"], name=name, version=version).status_code == 201
    run_jobs(engine)

    requests = scan(client, "requests")
    assert requests["status"] == "passed"
    (medium,) = requests["vulnerabilities"]
    assert (medium["id"], medium["severity"]) == ("GHSA-9wx4-h78v-vm56", "medium")
    assert "below the fail threshold 'critical'" in requests["reason"]
    assert scan(client, "flask")["status"] == "failed"
    assert scan(client, "requeests")["status"] == "failed"


def test_a_pysec_and_a_ghsa_record_of_one_cve_are_one_finding(
    client: Any,
    engine: Engine,
    tokens: dict[str, str],
    shared_data: Path,
    tmp_path: Path,
) -> None:
    """The shared data holds no GHSA copy of a PYSEC advisory, so one is written here: the
    real PYSEC-2023-62 under its GHSA id, with a CVSS vector as GitHub's records carry."""
    with zipfile.ZipFile(osv_dir(shared_data) / "PyPI-pypa.zip") as archive:
        pysec = json.loads(archive.read("PYSEC-2023-62.json"))
    ghsa = pysec | {
        "id": "GHSA-m2qf-hxjv-5gpq",
        "aliases": ["CVE-2023-30861"],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    }
    folder = tmp_path / "osv"
    folder.mkdir()
    (folder / "PYSEC-2023-62.json").write_text(json.dumps(pysec))
    (folder / "GHSA-m2qf-hxjv-5gpq.json").write_text(json.dumps(ghsa))
    report = import_all(engine, [folder])
    assert (report.new, report.invalid) == (2, 0)

    assert submit(client, tokens["submitter"], version="2.3.1").status_code == 201
    run_jobs(engine)
    (finding,) = scan(client, "flask")["vulnerabilities"]
    assert finding["id"] == "PYSEC-2023-62"
    assert finding["aliases"] == ["CVE-2023-30861", "GHSA-m2qf-hxjv-5gpq"]
    # The highest known severity of the group, with the rating it came from.
    assert finding["severity"] == "high" and finding["cvss"]["score"] == 7.5


def test_rescan_after_import_shows_what_changed(
    client: Any,
    engine: Engine,
    tokens: dict[str, str],
    shared_data: Path,
    picked_records: Path,
    tmp_path: Path,
) -> None:
    import_all(engine, [osv_dir(shared_data) / "GHSA-PyPI.zip"])
    assert submit(client, tokens["submitter"], version="2.3.1").status_code == 201
    run_jobs(engine)
    assert scan(client, "flask")["status"] == "passed"
    decision = {"ecosystem": "pypi", "name": "flask", "version": "2.3.1", "decision": "approve"}
    assert (
        client.post("/api/v1/reviews", json=decision, headers=key(tokens["reviewer"])).status_code
        == 201
    )

    report = import_all(engine, [picked_records])
    assert report.rescans == 1
    assert scan(client, "flask")["status"] == "pending"
    run_jobs(engine)
    after = scan(client, "flask")
    assert after["status"] == "failed"
    assert [(h["status"], h["trigger"]) for h in after["history"]] == [
        ("passed", "submission"),
        ("failed", "vulndb-import"),
    ]
    assert after["history"][-1]["changes"] == {
        "previous_status": "passed",
        "added": ["PYSEC-2023-62"],
        "removed": [],
        "changed": [],
    }
    # The approved version keeps its status and asks for a second look.
    record = client.get("/api/v1/packages/flask").json()
    assert record["status"] == "approved" and "new_vulnerability" in record["flags"]

    # A newer copy that withdraws the advisory: the finding goes away on the re-scan.
    original = (picked_records / "PYSEC-2023-62.json").read_text()
    withdrawn = json.loads(original) | {
        "modified": "2030-01-01T00:00:00Z",
        "withdrawn": "2030-01-01T00:00:00Z",
    }
    (tmp_path / "PYSEC-2023-62.json").write_text(json.dumps(withdrawn))
    report = import_all(engine, [tmp_path / "PYSEC-2023-62.json"])
    assert (report.updated, report.withdrawn, report.rescans) == (1, 1, 1)
    run_jobs(engine)
    final = scan(client, "flask")
    assert final["status"] == "passed" and final["vulnerabilities"] == []
    assert final["history"][-1]["changes"]["removed"] == ["PYSEC-2023-62"]
    assert len(final["history"]) == 3


def test_reimport_is_idempotent_and_an_older_copy_changes_nothing(
    engine: Engine,
    client: Any,
    tokens: dict[str, str],
    selected_data: list[Path],
    tmp_path: Path,
    picked_records: Path,
) -> None:
    first = import_all(engine, selected_data)
    assert (first.new, first.updated, first.unchanged, first.invalid) == (13, 0, 0, 0)
    again = import_all(engine, selected_data)
    assert (again.new, again.updated, again.unchanged, again.rescans) == (0, 0, 13, 0)

    older = json.loads((picked_records / "PYSEC-2023-62.json").read_text()) | {
        "modified": "2001-01-01T00:00:00Z",
        "affected": [],
    }
    (tmp_path / "old.json").write_text(json.dumps(older))
    # The older copy names no package, so nothing of it is stored, matching or not.
    assert import_all(engine, [tmp_path / "old.json"]).skipped == 1
    older["affected"] = json.loads((picked_records / "PYSEC-2023-62.json").read_text())["affected"]
    (tmp_path / "old.json").write_text(json.dumps(older))
    assert import_all(engine, [tmp_path / "old.json"]).older == 1

    status = client.get("/api/v1/vulndb/status", headers=key(tokens["admin"])).json()
    assert status["records"] == 13
    pypi = next(e for e in status["ecosystems"] if e["ecosystem"] == "pypi")
    assert pypi["sources"] == {
        "GHSA": {"records": 2, "withdrawn": 0},
        "MAL": {"records": 1, "withdrawn": 0},
        "PYSEC": {"records": 1, "withdrawn": 0},
    }


def test_the_whole_pypa_database_imports_and_reimports(engine: Engine, shared_data: Path) -> None:
    path = osv_dir(shared_data) / "PyPI-pypa.zip"
    first = import_all(engine, [path])
    # Counts as the shared data's README lists them.
    assert (first.read, first.new, first.withdrawn, first.invalid) == (2661, 2661, 10, 0)
    again = import_all(engine, [path])
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2661)
