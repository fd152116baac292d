"""`foss check`, the CI gate, against a real server: verdicts, exit codes, formats, batches."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from foss_registry.deps import parse_file
from tests.functional.catalogue import add_version, standard_catalogue
from tests.functional.cli.conftest import Registry, run_foss

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "deps"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def report(result: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in document["dependencies"]}


def test_every_dependency_approved_passes(
    registry: Registry, engine: Engine, tmp_path: Path
) -> None:
    standard_catalogue(engine)
    reqs = write(tmp_path / "requirements.txt", "requests==2.31.0\nFlask==2.3.0\n")
    result = registry.foss("check", reqs)
    assert result.code == 0, result.stderr
    assert "2 dependencies: 2 approved. Check passed." in result.stdout
    assert "requests" in result.stdout and "Flask" in result.stdout


def test_verdicts_group_the_report_and_fail_the_run(
    registry: Registry, engine: Engine, tmp_path: Path
) -> None:
    standard_catalogue(engine)
    reqs = write(
        tmp_path / "requirements.txt",
        "requests==2.31.0\nflask==3.0.0\nurllib3==1.26.0\nleft-pad-py==1.0\nidna>=3\n",
    )
    result = registry.foss("check", reqs)
    assert result.code == 1
    lines = result.stdout.splitlines()
    # Grouped by verdict, the ones to act on first, approved last.
    order = [
        v
        for v in ("rejected", "unknown", "unpinned", "pending", "approved")
        if any(line.startswith(f"│ {v}") for line in lines)
    ]
    assert order == ["rejected", "unknown", "unpinned", "pending", "approved"]
    first_of = {
        v: next(i for i, line in enumerate(lines) if line.startswith(f"│ {v}")) for v in order
    }
    assert sorted(first_of.values()) == list(first_of.values())
    assert "5 dependencies: 1 approved, 1 pending, 1 unpinned, 1 unknown, 1 rejected." in (
        result.stdout
    )
    assert "Check failed: 4 not allowed." in result.stdout
    # The rejected version's nearest approved one is suggested.
    rejected_line = next(line for line in lines if line.startswith("│ rejected"))
    assert "2.2.1" in rejected_line

    lenient = registry.foss("check", reqs, "--allow-pending", "--json")
    document = report(lenient)
    assert lenient.code == 1
    assert document["summary"]["failing"] == 3
    assert by_name(document)["flask"]["verdict"] == "pending"


def test_allow_pending_can_make_the_run_pass(
    registry: Registry, engine: Engine, tmp_path: Path
) -> None:
    standard_catalogue(engine)
    reqs = write(tmp_path / "requirements.txt", "requests==2.31.0\nflask==3.0.0\n")
    assert registry.foss("check", reqs).code == 1
    assert registry.foss("check", reqs, "--allow-pending").code == 0


def test_fail_on_severity(registry: Registry, engine: Engine, tmp_path: Path) -> None:
    standard_catalogue(engine)  # urllib3 2.2.1 is approved with one high finding
    reqs = write(tmp_path / "requirements.txt", "urllib3==2.2.1\nrequests==2.31.0\n")
    assert registry.foss("check", reqs).code == 0
    assert registry.foss("check", reqs, "--fail-on-severity", "critical").code == 0
    high = registry.foss("check", reqs, "--fail-on-severity", "HIGH", "--json")
    assert high.code == 1
    urllib3 = by_name(report(high))["urllib3"]
    assert urllib3["verdict"] == "vulnerable"
    assert (urllib3["scan_status"], urllib3["worst_severity"]) == ("failed", "high")
    bad = registry.foss("check", reqs, "--fail-on-severity", "severe")
    assert bad.code == 2 and "low, medium, high, critical" in bad.stderr


def test_json_report_has_the_gates_shape(
    registry: Registry, engine: Engine, tmp_path: Path
) -> None:
    standard_catalogue(engine)
    lock = write(
        tmp_path / "package-lock.json",
        json.dumps(
            {
                "name": "web",
                "version": "1.0.0",
                "lockfileVersion": 3,
                "requires": True,
                "packages": {
                    "": {
                        "name": "web",
                        "version": "1.0.0",
                        "dependencies": {"@babel/core": "^7.24.0"},
                    },
                    "node_modules/@babel/core": {
                        "version": "7.24.0",
                        "resolved": "https://npm.example.test/@babel/core/-/core-7.24.0.tgz",
                    },
                    "node_modules/left-pad": {
                        "version": "1.3.0",
                        "resolved": "https://npm.example.test/left-pad/-/left-pad-1.3.0.tgz",
                    },
                },
            }
        ),
    )
    result = registry.foss("check", lock, "--format", "json")
    assert result.code == 1
    document = report(result)
    for dep in document["dependencies"]:
        assert {
            "name",
            "version",
            "ecosystem",
            "status",
            "nearest_approved",
            "scan_status",
            "worst_severity",
            "license",
            "license_status",
        } <= set(dep)
    babel = by_name(document)["@babel/core"]
    assert (babel["status"], babel["ecosystem"], babel["license"]) == ("approved", "npm", "MIT")
    assert babel["source"] == str(lock)
    assert by_name(document)["left-pad"]["status"] == "unknown"
    summary = document["summary"]
    assert (summary["total"], summary["approved"], summary["unknown"]) == (2, 1, 1)
    assert summary["result"] == "failed"
    assert by_name(document)["@babel/core"]["findings"] == []
    # The summary line goes to stderr so stdout stays one JSON document.
    assert "Check failed" in result.stderr


def test_sarif_report(registry: Registry, engine: Engine, tmp_path: Path) -> None:
    standard_catalogue(engine)
    reqs = write(tmp_path / "requirements.txt", "requests==2.31.0\nflask==3.0.0\nurllib3==1.26.0\n")
    out = tmp_path / "foss.sarif"
    result = registry.foss(
        "check", reqs, "--format", "sarif", "--output", out, "--allow-pending", cwd=tmp_path
    )
    assert result.code == 1
    assert result.stdout == ""
    log = json.loads(out.read_text())
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    results = {r["partialFingerprints"]["dependency/v1"]: r for r in run["results"]}
    assert set(results) == {"pypi/flask@3.0.0", "pypi/urllib3@1.26.0"}
    rejected = results["pypi/urllib3@1.26.0"]
    assert rejected["level"] == "error" and rejected["ruleId"] == "foss/rejected"
    assert rule_ids[rejected["ruleIndex"]] == "foss/rejected"
    assert "2.2.1" in rejected["message"]["text"]
    assert results["pypi/flask@3.0.0"]["level"] == "warning"  # allowed pending
    location = rejected["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    # Relative to the working directory, as code-scanning dashboards resolve it.
    assert location == "requirements.txt"
    # At the dependency's own line.
    assert rejected["locations"][0]["physicalLocation"]["region"]["startLine"] == 3


def test_junit_report(registry: Registry, engine: Engine, tmp_path: Path) -> None:
    standard_catalogue(engine)
    reqs = write(tmp_path / "requirements.txt", "requests==2.31.0\nurllib3==1.26.0\nidna\n")
    result = registry.foss("check", reqs, "-f", "junit")
    assert result.code == 1
    root = ET.fromstring(result.stdout)
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["requests==2.31.0"].find("failure") is None
    failure = cases["urllib3==1.26.0"].find("failure")
    assert failure is not None and failure.get("type") == "rejected"
    assert cases["idna==*"].find("failure") is not None


def test_submit_missing_submits_unknown_versions_for_review(
    registry: Registry, engine: Engine, tmp_path: Path, tokens: dict[str, str]
) -> None:
    standard_catalogue(engine)
    reqs = write(
        tmp_path / "requirements.txt", "requests==2.31.0\ncertifi==2024.2.2\nidna==3.6\nflask>=2\n"
    )
    result = registry.foss("check", reqs, "--submit-missing", "--json", token=tokens["submitter"])
    assert result.code == 1  # now pending, still not approved
    deps = by_name(report(result))
    for name in ("certifi", "idna"):
        assert deps[name]["status"] == "pending"
        assert deps[name]["note"] == "submitted for review by this run"
    assert deps["flask"]["verdict"] == "unpinned"  # nothing to submit without a version
    record = json.loads(registry.foss("packages", "show", "certifi", "--json").stdout)
    assert record["submitted_by"] == "alice"
    assert "foss check" in record["justification"]
    # A second run finds them pending; --allow-pending now passes apart from the unpinned one.
    again = report(registry.foss("check", reqs, "--allow-pending", "--json"))
    assert again["summary"]["failing"] == 1

    no_token = registry.foss(
        "check", write(tmp_path / "requirements-dev.txt", "six==1.16.0\n"), "--submit-missing"
    )
    assert no_token.code == 3
    assert "--submit-missing needs a submitter token" in no_token.stderr


def test_more_than_five_thousand_dependencies_go_in_batches(
    registry: Registry, engine: Engine, tmp_path: Path
) -> None:
    add_version(engine, "pypi", "requests", "2.31.0")
    lines = [f"generated-package-{i}==1.0.{i}" for i in range(6_500)] + ["requests==2.31.0"]
    reqs = write(tmp_path / "requirements.txt", "\n".join(lines) + "\n")
    result = registry.foss("check", reqs, "--json")
    assert result.code == 1
    document = report(result)
    assert document["summary"]["total"] == 6_501
    assert document["summary"]["unknown"] == 6_500
    assert document["dependencies"][-1]["status"] == "approved"
    assert document["dependencies"][6_000]["name"] == "generated-package-6000"


@pytest.mark.parametrize(
    "fixture",
    [
        "requirements/requirements.txt",
        "poetry/poetry.lock",
        "uv/uv.lock",
        "pipenv/Pipfile.lock",
        "npm-v3/package-lock.json",
        "npm-v1/npm-shrinkwrap.json",
        "yarn-v1/yarn.lock",
        "yarn-berry/yarn.lock",
        "yarn-berry-3/yarn.lock",
        "maven/pom.xml",
        "sbom/storefront.cdx.json",
        "sbom/orders-service.spdx.json",
    ],
)
def test_real_world_shaped_files_of_every_format(
    fixture: str, registry: Registry, engine: Engine
) -> None:
    path = FIXTURES / fixture
    expected = parse_file(path)
    # Approve the first pinned dependency of the file so each run sees both verdicts.
    first = next(d for d in expected if d.pinned)
    assert first.version is not None
    add_version(engine, first.ecosystem, first.name, first.version)
    result = registry.foss("check", path, "--json")
    assert result.code == 1, result.stderr
    document = report(result)
    assert [(d["ecosystem"], d["name"], d["version"]) for d in document["dependencies"]] == [
        (d.ecosystem, d.name, d.version) for d in expected
    ]
    verdicts = {d["name"]: d["verdict"] for d in document["dependencies"]}
    assert verdicts[first.name] == "approved"
    for dep in expected:
        if not dep.pinned:
            assert verdicts[dep.name] == "unpinned"


def test_the_projects_own_environment_as_a_requirements_file(
    registry: Registry, tmp_path: Path, tokens: dict[str, str]
) -> None:
    # The README's demonstration: freeze this environment and gate it.
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    reqs = write(tmp_path / "requirements.txt", frozen)
    count = len(parse_file(reqs))
    assert count > 50
    first = registry.foss("check", reqs, "--submit-missing", "--quiet", token=tokens["submitter"])
    assert first.code == 1 and first.stdout == "" and first.stderr == ""
    second = registry.foss("check", reqs, "--allow-pending", "--json")
    summary = report(second)["summary"]
    assert summary["total"] == count
    assert summary["pending"] == count - summary["unpinned"]


BAD_FILES = {
    "truncated": ("package-lock.json", b'{"name": "x", "lockfileVersion": 3, "packages": {"node_'),
    "binary": ("requirements.txt", b"\x7fELF\x02\x01\x01\x00\x00\x00" * 20),
    "unknown format": ("notes.md", b"# Release notes\n\nNothing to see.\n"),
    "missing": ("does-not-exist.txt", None),
    "yarn 1, odd indentation": ("yarn.lock", b'# yarn lockfile v1\n\na@^1:\n   version "1"\n'),
    "yarn berry, broken YAML": (
        "yarn.lock",
        b'__metadata:\n  version: 8\n"a@npm:^1":\n  resolution: "a@npm:1.0.0\n',
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_one_line_errors_with_exit_2(case: str, tmp_path: Path) -> None:
    name, content = BAD_FILES[case]
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    # No server is needed: the file is refused before anything is sent.
    result = run_foss("check", path, api_url="http://127.0.0.1:9/api/v1")
    assert result.code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert name in lines[0]


def test_a_lockfile_of_100000_entries_is_refused(tmp_path: Path) -> None:
    packages: dict[str, Any] = {"": {"name": "huge", "version": "1.0.0"}}
    for i in range(100_000):
        packages[f"node_modules/pkg-{i}"] = {"version": "1.0.0"}
    path = write(
        tmp_path / "package-lock.json",
        json.dumps({"name": "huge", "lockfileVersion": 3, "packages": packages}),
    )
    result = run_foss("check", path, api_url="http://127.0.0.1:9/api/v1")
    assert result.code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "50,000" in result.stderr


def test_unreachable_registry_is_exit_3(closed_port_url: str, tmp_path: Path) -> None:
    reqs = write(tmp_path / "requirements.txt", "requests==2.31.0\n")
    result = run_foss("check", reqs, api_url=closed_port_url)
    assert result.code == 3
    assert result.stderr.strip().splitlines() == [
        f"error: cannot reach the registry at {closed_port_url}: connection refused "
        "(is the server running?)"
    ]


def test_usage_errors_are_exit_2(tmp_path: Path) -> None:
    reqs = write(tmp_path / "requirements.txt", "requests==2.31.0\n")
    assert run_foss("check", api_url=None).code == 2  # no PATH
    bad_format = run_foss("check", reqs, "--format", "html", api_url=None)
    assert bad_format.code == 2 and "table, json, sarif, junit" in bad_format.stderr
