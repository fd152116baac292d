"""`foss packages|review|scans|licenses|export` against a real server process."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from sqlalchemy import Engine

from tests.functional.catalogue import standard_catalogue
from tests.functional.cli.conftest import Registry, run_foss


def test_packages_list_search_and_show(registry: Registry, engine: Engine) -> None:
    standard_catalogue(engine)
    listed = registry.foss("packages", "list")
    assert listed.code == 0, listed.stderr
    assert "requests" in listed.stdout and "log4j-core" in listed.stdout
    assert "of 8 version(s)" in listed.stdout

    as_json = registry.foss(
        "packages", "list", "--ecosystem", "pypi", "--status", "approved", "--json"
    )
    page = json.loads(as_json.stdout)
    assert {(p["name"], p["version"]) for p in page["packages"]} == {
        ("requests", "2.31.0"),
        ("Flask", "2.3.0"),
        ("urllib3", "2.2.1"),
    }
    assert page["total"] == 3

    found = json.loads(registry.foss("packages", "search", "flask", "--json").stdout)
    assert [p["version"] for p in found["packages"]] == ["3.0.0", "2.3.0"]

    shown = registry.foss("packages", "show", "flask")
    assert shown.code == 0
    assert "pypi Flask 3.0.0" in shown.stdout and "pending" in shown.stdout
    record = json.loads(
        registry.foss("packages", "show", "@babel/core", "--ecosystem", "npm", "--json").stdout
    )
    assert record["purl"] == "pkg:npm/%40babel/core@7.24.0"
    assert record["approved_by"] == "rita"

    assert registry.foss("packages", "list", "--quiet").stdout == ""


def test_api_errors_are_one_line_with_exit_code_3(registry: Registry) -> None:
    missing = registry.foss("packages", "show", "no-such-package")
    assert missing.code == 3
    assert missing.stderr.strip() == "error: No package named 'no-such-package' is in the registry."


def test_input_the_server_refuses_as_invalid_is_a_usage_error(registry: Registry) -> None:
    bad_filter = registry.foss("packages", "list", "--ecosystem", "cargo")
    assert bad_filter.code == 2
    assert "Unknown ecosystem 'cargo'" in bad_filter.stderr
    unknown_license = registry.foss("licenses", "check", "--outbound", "MIT", "Foo-License")
    assert unknown_license.code == 2, unknown_license.stderr
    lines = unknown_license.stderr.strip().splitlines()
    assert len(lines) == 1 and "Foo-License" in lines[0]
    bad_outbound = registry.foss("licenses", "check", "--outbound", "Nope-1.0", "MIT")
    assert bad_outbound.code == 2, bad_outbound.stderr


def test_submit_needs_a_token_and_records_the_submitter(
    registry: Registry, tokens: dict[str, str]
) -> None:
    anonymous = registry.foss("packages", "submit", "requests", "2.31.0", "-e", "pypi")
    assert anonymous.code == 3
    assert "X-API-Key" in anonymous.stderr

    submitted = registry.foss(
        "packages",
        "submit",
        "requests",
        "2.31.0",
        "--ecosystem",
        "pypi",
        "--license",
        "Apache-2.0",
        "--justification",
        "HTTP client for the billing job",
        "--json",
        token=tokens["submitter"],
    )
    assert submitted.code == 0, submitted.stderr
    record = json.loads(submitted.stdout)
    assert (record["status"], record["submitted_by"]) == ("pending", "alice")
    assert record["justification"] == "HTTP client for the billing job"

    again = registry.foss(
        "packages", "submit", "Requests", "2.31", "-e", "pypi", token=tokens["submitter"]
    )
    assert again.code == 3
    assert "already been submitted" in again.stderr

    invalid = registry.foss(
        "packages", "submit", "requests", "not-a-version", "-e", "pypi", token=tokens["submitter"]
    )
    assert invalid.code == 2 and "PEP 440" in invalid.stderr

    # --token overrides FOSS_API_TOKEN.
    overridden = run_foss(
        "packages",
        "submit",
        "idna",
        "3.6",
        "-e",
        "pypi",
        "--token",
        tokens["submitter"],
        api_url=registry.api_url,
        token="foss_not-a-real-token",
    )
    assert overridden.code == 0, overridden.stderr


def test_review_approve_reject_and_list(
    registry: Registry, engine: Engine, tokens: dict[str, str]
) -> None:
    standard_catalogue(engine)
    reviewer = tokens["reviewer"]
    approved = registry.foss(
        "review", "approve", "flask", "3.0.0", "-e", "pypi", "--comment", "LTS", token=reviewer
    )
    assert approved.code == 0, approved.stderr
    assert "approved by rita" in approved.stderr
    assert "pypi Flask 3.0.0" in approved.stdout

    rejected = json.loads(
        registry.foss(
            "review",
            "reject",
            "requests",
            "2.31.0",
            "-e",
            "pypi",
            "--comment",
            "CVE in our use",
            "--json",
            token=reviewer,
        ).stdout
    )
    assert rejected["decision"] == "reject"
    assert rejected["package"]["rejection_reason"] == "CVE in our use"

    no_comment = registry.foss(
        "review", "reject", "requests", "2.31.0", "-e", "pypi", token=reviewer
    )
    assert no_comment.code == 2 and "--comment" in no_comment.stderr

    too_weak = registry.foss(
        "review", "approve", "requests", "2.31.0", "-e", "pypi", token=tokens["submitter"]
    )
    assert too_weak.code == 3 and "reviewer" in too_weak.stderr

    history = json.loads(registry.foss("review", "list", "--json").stdout)
    assert history["reviews"][0]["comment"] == "CVE in our use"
    queue = registry.foss("review", "list", "--status", "approved")
    assert queue.code == 0 and "Flask" in queue.stdout


def test_scans_show(registry: Registry, engine: Engine) -> None:
    standard_catalogue(engine)
    shown = registry.foss("scans", "show", "urllib3", "--version", "2.2.1")
    assert shown.code == 0, shown.stderr
    assert "failed" in shown.stdout and "1 high" in shown.stdout
    assert "GHSA-test-high-0" in shown.stdout
    report = json.loads(registry.foss("scans", "show", "urllib3", "-v", "2.2.1", "--json").stdout)
    assert report["severity"]["high"] == 1
    unknown = registry.foss("scans", "show", "left-pad")
    assert unknown.code == 3 and "left-pad" in unknown.stderr


def test_licenses_show_list_and_check(registry: Registry) -> None:
    mit = registry.foss("licenses", "show", "mit")
    assert mit.code == 0, mit.stderr
    assert "MIT License" in mit.stdout and "permissive" in mit.stdout
    info = json.loads(registry.foss("licenses", "show", "Apache-2.0", "--json").stdout)
    assert info["name"] == "Apache-2.0" and info["osi_approved"] is True

    listed = json.loads(
        registry.foss("licenses", "list", "--category", "network_copyleft", "--json").stdout
    )
    assert "AGPL-3.0-only" in {lic["name"] for lic in listed["licenses"]}

    fits = registry.foss("licenses", "check", "--outbound", "GPL-3.0-only", "MIT")
    assert fits.code == 0, fits.stderr
    assert "yes" in fits.stdout
    clash = registry.foss("licenses", "check", "--outbound", "MIT", "GPL-3.0-only", "--json")
    assert clash.code == 1
    answer = json.loads(clash.stdout)
    assert answer["answer"] == "no" and answer["reasons"]

    unknown = registry.foss("licenses", "show", "Not-A-License")
    assert unknown.code == 3 and "Not-A-License" in unknown.stderr


def test_export_formats(registry: Registry, engine: Engine, tmp_path: Path) -> None:
    standard_catalogue(engine)
    bom_path = tmp_path / "approved.cdx.json"
    written = registry.foss("export", "--output", bom_path)
    assert written.code == 0, written.stderr
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(bom_path.read_text()) is None
    assert len(json.loads(bom_path.read_text())["components"]) == 6

    constraints = registry.foss("export", "--format", "constraints")
    pins = [x for x in constraints.stdout.splitlines() if x and not x.startswith("#")]
    assert pins == ["Flask==2.3.0", "requests==2.31.0", "urllib3==2.2.1"]

    table = registry.foss("export", "-f", "csv", "-e", "maven")
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [r["name"] for r in rows] == ["org.apache.logging.log4j:log4j-core"]

    bad = registry.foss("export", "--format", "spdx")
    assert bad.code == 2 and "cyclonedx" in bad.stderr


def test_unreachable_server_is_exit_3_with_one_line(closed_port_url: str) -> None:
    for args in (
        ("packages", "list"),
        ("scans", "show", "x"),
        ("licenses", "show", "MIT"),
        ("export",),
    ):
        result = run_foss(*args, api_url=closed_port_url)
        assert result.code == 3, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot reach the registry" in lines[0], result.stderr


def test_a_url_that_is_not_the_api_is_a_clear_error(registry: Registry) -> None:
    # The server root answers with the reviewer pages (HTML), /docs with a 404
    # that is not the API's problem JSON: neither is the API's JSON.
    for not_the_api in ("", "/docs"):
        wrong = run_foss("packages", "list", api_url=registry.server.url + not_the_api)
        assert wrong.code == 3, wrong.stderr
        assert "api/v1" in wrong.stderr
    not_http = run_foss("packages", "list", api_url="ftp://example.invalid/api/v1")
    assert not_http.code == 2 and "http" in not_http.stderr


def test_help_never_shows_the_token() -> None:
    secret = "foss_super-secret-value-123"
    result = run_foss("packages", "submit", "--help", api_url=None, token=secret)
    assert result.code == 0
    assert "FOSS_API_TOKEN" in result.stdout
    assert secret not in result.stdout


def test_the_cli_starts_without_loading_the_server_side() -> None:
    # Client commands (`foss check` in every pipeline) pay for every module the
    # `foss` command imports at start; the database layers and the web framework
    # load only in the server-side commands that use them.
    server_side = ("sqlalchemy", "alembic", "pydantic_settings", "litestar", "foss_registry.db")
    probe = (
        "import sys, foss_registry.cli.main; "
        f"print(sorted(m for m in {server_side!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
