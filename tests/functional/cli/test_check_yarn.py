"""`foss check` of lockfiles written by the real Yarn 1 and Yarn 4, against a real server.

What the gate reports must be what the lockfile pins (the lists of
tests/unit/deps/test_deps_yarn.py): every registry release once under its real
name, the file: package unpinned, workspaces, link: and portal: entries left out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.functional.catalogue import add_version
from tests.functional.cli.conftest import Registry
from tests.unit.deps.test_deps_yarn import BERRY_PINS, CLASSIC_PINS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "deps"


@pytest.mark.parametrize(
    ("folder", "expected"),
    [("yarn-v1", CLASSIC_PINS), ("yarn-berry", BERRY_PINS)],
)
def test_gate_reports_what_the_lockfile_pins(
    registry: Registry, engine: Engine, folder: str, expected: list[tuple[str, str | None]]
) -> None:
    path = FIXTURES / folder / "yarn.lock"
    for name, version in expected:
        if version is not None:
            status = "rejected" if (name, version) == ("lodash", "4.17.21") else "approved"
            add_version(engine, "npm", name, version, status)

    result = registry.foss("check", path, "--format", "json")
    assert result.code == 1, result.stderr
    document = json.loads(result.stdout)
    rows = document["dependencies"]
    assert [(d["name"], d["version"]) for d in rows] == expected
    verdicts = {(d["name"], d["version"]): d["verdict"] for d in rows}
    assert verdicts.pop(("lodash", "4.17.21")) == "rejected"
    assert verdicts.pop(("local-lib", None)) == "unpinned"
    assert set(verdicts.values()) == {"approved"}
    assert document["summary"]["total"] == len(expected)
    assert document["summary"]["failing"] == 2
    names = {d["name"] for d in rows}
    # The project's own workspaces and folders are not packages to gate.
    assert not names & {"fixture-app", "helper", "linked-lib", "portal-lib", "string-width-cjs"}
    if folder == "yarn-berry":
        assert document["skipped"] == [
            f"{path}: linked-lib is link:./linked-lib, not a registry package; skipped",
            f"{path}: portal-lib is portal:./portal-lib, not a registry package; skipped",
        ]


def test_gate_passes_a_berry_lockfile_whose_releases_are_all_approved(
    registry: Registry, engine: Engine, tmp_path: Path
) -> None:
    # The Yarn 4 lockfile without its file: entry (a folder copied into the cache).
    text = (FIXTURES / "yarn-berry" / "yarn.lock").read_text()
    entries = text.split("\n\n")
    kept = [e for e in entries if not e.startswith('"local-lib@file:')]
    assert len(kept) == len(entries) - 1
    path = tmp_path / "yarn.lock"
    path.write_text("\n\n".join(kept))
    for name, version in BERRY_PINS:
        if version is not None:
            add_version(engine, "npm", name, version)
    result = registry.foss("check", path)
    assert result.code == 0, result.stdout + result.stderr
    assert f"{len(BERRY_PINS) - 1} dependencies: {len(BERRY_PINS) - 1} approved." in result.stdout
