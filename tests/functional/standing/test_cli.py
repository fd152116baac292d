"""`foss rules` and `foss check --vex` against a real server."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from foss_registry.db import write_transaction
from foss_registry.intake.service import submit_package
from foss_registry.packages.service import Submission
from tests.functional.cli.conftest import Registry
from tests.functional.cli.conftest import registry as registry
from tests.functional.conftest import create_token
from tests.functional.server.conftest import server as server
from tests.functional.vulns.conftest import run_jobs


def test_rules_add_list_and_end(registry: Registry, engine: Engine) -> None:
    reviewer = create_token(engine, "rita", "reviewer")
    submitter = create_token(engine, "alice", "submitter")
    added = registry.foss(
        "rules",
        "add",
        "lodash",
        "^4.17.0",
        "-e",
        "npm",
        "-m",
        "4.x line",
        "--json",
        token=reviewer,
    )
    assert added.code == 0, added.stderr
    rule = json.loads(added.stdout)
    assert rule["range"] == ">=4.17.0 <5.0.0" and rule["created_by"] == "rita"

    listed = registry.foss("rules", "list", token=submitter)
    assert listed.code == 0, listed.stderr
    assert "lodash" in listed.stdout and ">=4.17.0 <5.0.0" in listed.stdout

    bad = registry.foss("rules", "add", "lodash", "not a range", "-e", "npm", token=reviewer)
    assert bad.code == 2 and "npm range" in bad.stderr
    refused = registry.foss("rules", "end", str(rule["id"]), token=submitter)
    assert refused.code == 3
    ended = registry.foss("rules", "end", str(rule["id"]), token=reviewer)
    assert ended.code == 0 and "ended by rita" in ended.stderr
    after = registry.foss("rules", "list", "--json", token=submitter)
    assert json.loads(after.stdout) == {"rules": []}


def test_check_honours_an_openvex_file(
    registry: Registry, engine: Engine, tmp_path: Path, pypi_advisories: None
) -> None:
    with write_transaction(engine) as conn:
        submit_package(conn, Submission("flask", "2.3.1", "pypi", license="MIT"), "alice")
    run_jobs(engine)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("flask==2.3.1\n")
    strict = registry.foss("check", requirements, "--allow-pending", "--fail-on-severity", "high")
    assert strict.code == 1, strict.stdout

    vex = tmp_path / "project.openvex.json"
    vex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.com/vex/1",
                "author": "Security team",
                "timestamp": "2026-12-01T00:00:00Z",
                "version": 1,
                "statements": [
                    {
                        "vulnerability": {"name": "CVE-2023-30861"},
                        "products": [{"@id": "pkg:pypi/flask@2.3.1"}],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    }
                ],
            }
        )
    )
    honoured = registry.foss(
        "check",
        requirements,
        "--allow-pending",
        "--fail-on-severity",
        "high",
        "--vex",
        vex,
        "--json",
    )
    assert honoured.code == 0, honoured.stdout + honoured.stderr
    (dependency,) = json.loads(honoured.stdout)["dependencies"]
    assert dependency["verdict"] == "pending"

    broken = tmp_path / "broken.json"
    broken.write_text('{"statements": 3}')
    assert registry.foss("check", requirements, "--vex", broken).code == 2
