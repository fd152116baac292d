"""Docker images: scanned by an external scanner when one is installed, else ``not_scanned``."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from foss_registry.config import get_settings
from tests.functional.conftest import submit
from tests.functional.vulns.conftest import import_all, run_jobs


def scan(client: Any, name: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/security/scans/{name}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def fake_tool(folder: Path, name: str, *, report: Path | None = None, exit_code: int = 0) -> Path:
    """An executable named like the tool that prints a report and records its arguments."""
    folder.mkdir(exist_ok=True)
    script = folder / name
    lines = [
        f"#!{sys.executable}",
        "import sys",
        f"open({str(folder / 'args.txt')!r}, 'w').write(' '.join(sys.argv[1:]))",
    ]
    if report is not None:
        lines.append(f"sys.stdout.buffer.write(open({str(report)!r}, 'rb').read())")
    else:
        lines.append("sys.stderr.write('FATAL: unable to pull the image\\n')")
    lines.append(f"sys.exit({exit_code})")
    script.write_text("\n".join(lines) + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH holds only an empty folder, so no scanner of this machine is found."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def test_image_without_a_scanner_is_not_scanned_never_passed(
    client: Any,
    engine: Engine,
    tokens: dict[str, str],
    selected_data: list[Path],
    empty_path: Path,
) -> None:
    import_all(engine, selected_data)
    response = submit(
        client, tokens["submitter"], name="nginx", version="1.25.3", ecosystem="docker"
    )
    assert response.status_code == 201
    run_jobs(engine)
    report = scan(client, "library/nginx")
    assert report["status"] == "not_scanned"
    assert "No image scanner" in report["reason"]
    assert "trivy" in report["reason"] and "FOSS_TRIVY_PATH" in report["reason"]
    assert report["tools_used"] == [] and report["vulnerabilities"] == []


def test_image_scanned_by_trivy_on_path(
    client: Any,
    engine: Engine,
    tokens: dict[str, str],
    shared_data: Path,
    empty_path: Path,
) -> None:
    """Trivy cannot run here (no network, no image), so a stand-in named ``trivy`` prints
    Trivy's real JSON report of an alpine 3.10 image from the shared scanner outputs."""
    fake_tool(empty_path, "trivy", report=shared_data / "scanner-output/trivy/alpine-310.json")
    response = submit(
        client, tokens["submitter"], name="alpine", version="3.10.2", ecosystem="docker"
    )
    assert response.status_code == 201
    run_jobs(engine)
    report = scan(client, "alpine")
    # Only the tool that ran is named: the OSV matcher does not apply to images.
    assert report["tools_used"] == ["trivy"]
    assert report["status"] == "failed"
    found = {(v["id"], v["package"]) for v in report["vulnerabilities"]}
    assert found == {
        ("CVE-2019-1549", "libcrypto1.1"),
        ("CVE-2019-1549", "libssl1.1"),
        ("CVE-2019-1551", "libcrypto1.1"),
        ("CVE-2019-1551", "libssl1.1"),
    }
    assert report["severity"]["medium"] == 4
    assert {v["package_version"] for v in report["vulnerabilities"]} == {"1.1.1c-r0"}
    # The image reference handed to the tool, after its options.
    assert (empty_path / "args.txt").read_text().endswith(" library/alpine:3.10.2")


def test_configured_grype_path_and_a_failing_tool(
    client: Any,
    engine: Engine,
    tokens: dict[str, str],
    shared_data: Path,
    empty_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stand-ins again: Grype prints its real report of an image with httpclient 4.1.1;
    Trivy fails as it would when it cannot pull the image."""
    grype = fake_tool(
        tmp_path / "tools", "grype", report=shared_data / "scanner-output/grype/ghsa-test.json"
    )
    monkeypatch.setenv("FOSS_GRYPE_PATH", str(grype))
    fake_tool(empty_path, "trivy", exit_code=1)
    digest = "sha256:" + "ab" * 32
    response = submit(
        client, tokens["submitter"], name="ghcr.io/acme/app", version=digest, ecosystem="docker"
    )
    assert response.status_code == 201
    run_jobs(engine)
    report = scan(client, "ghcr.io/acme/app")
    assert report["tools_used"] == ["grype"]
    (finding,) = report["vulnerabilities"]
    assert (finding["id"], finding["aliases"]) == ("GHSA-cfh5-3ghh-wfjx", ["CVE-2014-3577"])
    assert (finding["package"], finding["package_version"]) == ("httpclient", "4.1.1")
    assert report["status"] == "failed"
    # Trivy's failure is told, not hidden behind Grype's result.
    assert "trivy" in report["reason"] and "status 1" in report["reason"]
    assert (tmp_path / "tools/args.txt").read_text().startswith(f"ghcr.io/acme/app@{digest}")

    # With every installed tool failing, the scan is an error with the reason.
    monkeypatch.setenv("FOSS_SCANNERS", "trivy")
    get_settings.cache_clear()
    response = submit(
        client, tokens["submitter"], name="ghcr.io/acme/app", version="2.0", ecosystem="docker"
    )
    assert response.status_code == 201
    run_jobs(engine)
    failed = client.get("/api/v1/security/scans/ghcr.io/acme/app?version=2.0").json()
    assert failed["status"] == "error"
    assert "trivy" in failed["reason"] and failed["tools_used"] == []
    assert os.environ["PATH"] == str(empty_path)
