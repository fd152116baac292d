"""`foss check --submit-missing`: what the lockfile knows, in batches, rate limits waited out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.functional.cli.conftest import Registry, run_foss
from tests.functional.server.conftest import start_server

LODASH_INTEGRITY = (
    "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg=="
)


def lockfile(path: Path) -> Path:
    """A package-lock.json (v3) as npm writes it: license, resolved and integrity per entry."""
    doc = {
        "name": "web",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"name": "web", "version": "1.0.0", "license": "UNLICENSED"},
            "node_modules/lodash": {
                "version": "4.17.21",
                "resolved": "https://npm.example.test/lodash/-/lodash-4.17.21.tgz",
                "integrity": LODASH_INTEGRITY,
                "license": "MIT",
            },
            "node_modules/@babel/core": {
                "version": "7.24.0",
                "resolved": "https://npm.example.test/@babel/core/-/core-7.24.0.tgz",
                "license": "MIT",
                "dev": True,
            },
            "node_modules/internal-tool": {
                "version": "1.0.0",
                "resolved": "https://npm.example.test/internal-tool/-/internal-tool-1.0.0.tgz",
                "license": "UNLICENSED",
            },
        },
    }
    for i in range(30):
        doc["packages"][f"node_modules/dep-{i}"] = {  # type: ignore[index]
            "version": f"1.0.{i}",
            "resolved": f"https://npm.example.test/dep-{i}/-/dep-{i}-1.0.{i}.tgz",
            "license": "ISC",
        }
    path.write_text(json.dumps(doc, indent=2))
    return path


def record(api_url: str, name: str) -> dict[str, Any]:
    response = httpx.get(f"{api_url}/packages/{name}", params={"ecosystem": "npm"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_submit_missing_sends_what_the_lockfile_knows_in_one_batch(
    registry: Registry, tokens: dict[str, str], tmp_path: Path
) -> None:
    lock = lockfile(tmp_path / "package-lock.json")
    result = registry.foss("check", lock, "--submit-missing", token=tokens["submitter"])
    assert result.code == 1, result.stderr  # submitted, so pending: not yet allowed
    assert "33 pending" in result.stdout and "submitted for review by this run" in result.stdout
    lodash = record(registry.api_url, "lodash")
    assert lodash["license"] == "MIT"  # was `none` when the license was dropped
    assert lodash["resolved"] == "https://npm.example.test/lodash/-/lodash-4.17.21.tgz"
    assert lodash["integrity"] == LODASH_INTEGRITY
    assert lodash["submitted_by"] == "alice"
    assert record(registry.api_url, "@babel/core")["license"] == "MIT"
    # UNLICENSED is no SPDX expression: submitted without a license, the declaration kept.
    internal = record(registry.api_url, "internal-tool")
    assert internal["license"] is None
    assert "UNLICENSED" in internal["justification"]
    assert record(registry.api_url, "dep-7")["license"] == "ISC"
    # One batch request for the 33 (and one to send internal-tool again without its
    # license), not one POST per dependency.
    log = registry.server.log()
    assert log.count("POST /api/v1/submissions") == 2, log
    assert "POST /api/v1/packages " not in log


def test_submit_missing_waits_out_the_rate_limit_visibly(
    tmp_path: Path, database_url: str, tokens: dict[str, str]
) -> None:
    server = start_server(
        tmp_path,
        {
            "FOSS_DATABASE_URL": database_url,
            "FOSS_RATE_LIMITS_ENABLED": "true",
            "FOSS_RATE_LIMIT_PER_KEY": "2/second",
        },
    )
    try:
        lock = lockfile(tmp_path / "package-lock.json")
        # /check, /submissions, /check again: the third request of the second is refused.
        result = run_foss(
            "check",
            lock,
            "--submit-missing",
            "--allow-pending",
            api_url=f"{server.url}/api/v1",
            token=tokens["submitter"],
        )
        assert "rate limited by the registry: waiting" in result.stderr, result.stderr
        assert "Retry-After" in result.stderr
        assert result.code == 0, result.stdout + result.stderr
        assert "33 pending" in result.stdout
    finally:
        server.stop()
