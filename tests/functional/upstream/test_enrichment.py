"""Enrichment end to end: submit, the job asks the fake upstream, the record shows facts and
signals, and the policy acts on them (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from foss_registry.config import get_settings
from foss_registry.scans.service import IMPORT_RESCANS
from foss_registry.vulns import service as vulndb
from foss_registry.wiring import new_worker
from tests.fakes.upstream import FakeUpstream, free_port_url
from tests.functional.conftest import key, submit


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeUpstream]:
    """A fake upstream configured for PyPI, npm and Maven, with short timeouts."""
    with FakeUpstream() as server:
        monkeypatch.setenv("FOSS_UPSTREAM_PYPI", server.pypi_url)
        monkeypatch.setenv("FOSS_UPSTREAM_NPM", server.npm_url)
        monkeypatch.setenv("FOSS_UPSTREAM_MAVEN", server.maven_url)
        monkeypatch.setenv("FOSS_UPSTREAM_TIMEOUT_SECONDS", "0.5")
        monkeypatch.setenv("FOSS_UPSTREAM_RETRIES", "1")
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run_jobs(engine: Engine) -> int:
    return new_worker(engine).run_until_idle()


def record(client: Any, name: str, ecosystem: str, version: str | None = None) -> dict[str, Any]:
    params = {"ecosystem": ecosystem} | ({"version": version} if version else {})
    response = client.get(f"/api/v1/packages/{name}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def codes(rec: dict[str, Any]) -> dict[str, str]:
    return {s["code"]: s["level"] for s in rec["signals"]}


def test_pypi_version_is_enriched_after_a_201(client, engine, tokens, fake) -> None:
    fake.add_pypi(
        "demo-pkg", "1.0.0", license_expression="MIT",
        requires_dist=("requests>=2",), project_urls={"Source": "https://git.example.internal/demo"},
    )
    response = submit(client, tokens["submitter"], name="Demo_Pkg", version="1.0", ecosystem="pypi", license="MIT")
    assert response.status_code == 201
    assert response.json()["upstream"]["status"] == "pending"
    assert record(client, "demo-pkg", "pypi")["upstream"]["status"] == "pending"
    run_jobs(engine)
    rec = record(client, "demo-pkg", "pypi")
    up = rec["upstream"]
    assert up["status"] == "ok"
    assert up["source"] == fake.pypi_url + "demo-pkg/"
    assert up["license"] == "MIT" and up["license_raw"] == "MIT"
    assert up["released_at"] == "2024-01-02T03:04:05Z"
    assert up["repository"] == "https://git.example.internal/demo"
    assert up["dependencies"] == [{"name": "requests", "requirement": ">=2", "scope": "runtime"}]
    assert sorted(f["kind"] for f in up["files"]) == ["sdist", "wheel"]
    assert all(len(f["sha256"]) == 64 for f in up["files"])
    assert up["fetched_at"] and up["yanked"] is False and up["deprecated"] is None
    assert rec["signals"] == []
    assert rec["license"] == "MIT"


def test_license_is_taken_from_upstream_when_none_was_submitted(client, engine, tokens, fake) -> None:
    fake.add_pypi("nolicense", "1.0", license_text="Apache Software License")
    submit(client, tokens["submitter"], name="nolicense", version="1.0", ecosystem="pypi")
    run_jobs(engine)
    rec = record(client, "nolicense", "pypi")
    assert rec["license"] == "Apache-2.0"
    assert rec["upstream"]["license_from_upstream"] is True
    assert rec["upstream"]["license_raw"] == "Apache Software License"
    signal = next(s for s in rec["signals"] if s["code"] == "license_from_upstream")
    assert "Apache-2.0" in signal["message"] and signal["level"] == "info"
    assert "no license declared" not in rec["policy_reasons"]
    # A second enrichment still knows the license came from upstream (no mismatch with itself).
    admin = key(tokens["admin"])
    assert client.post("/api/v1/enrich", json={"ecosystem": "pypi", "name": "nolicense"}, headers=admin).status_code == 202
    run_jobs(engine)
    assert codes(record(client, "nolicense", "pypi")) == {"license_from_upstream": "info", "no_repository": "info"}


def test_unparseable_upstream_license_is_kept_verbatim_as_unknown(client, engine, tokens, fake) -> None:
    fake.add_pypi("oddlicense", "1.0", license_text="Free for good people")
    submit(client, tokens["submitter"], name="oddlicense", version="1.0", ecosystem="pypi")
    run_jobs(engine)
    rec = record(client, "oddlicense", "pypi")
    assert rec["license"] == "Free for good people"
    assert rec["upstream"]["license"] is None


def test_license_mismatch_compares_expressions(client, engine, tokens, fake) -> None:
    fake.add_npm("same-lic", "1.0.0", license="(MIT OR Apache-2.0)", repository="https://git.example.internal/x")
    fake.add_npm("other-lic", "1.0.0", license="GPL-3.0-only", repository="https://git.example.internal/y")
    submit(client, tokens["submitter"], name="same-lic", version="1.0.0", ecosystem="npm", license="Apache-2.0 OR MIT")
    submit(client, tokens["submitter"], name="other-lic", version="1.0.0", ecosystem="npm", license="MIT")
    run_jobs(engine)
    assert "license_mismatch" not in codes(record(client, "same-lic", "npm"))
    rec = record(client, "other-lic", "npm")
    mismatch = next(s for s in rec["signals"] if s["code"] == "license_mismatch")
    assert "MIT" in mismatch["message"] and "GPL-3.0-only" in mismatch["message"]


def test_npm_facts_and_signals(client, engine, tokens, fake) -> None:
    fake.add_npm(
        "@acme/setup-thing", "2.0.0", published=datetime.now(UTC) - timedelta(hours=5),
        scripts={"postinstall": "node steal.js"}, deprecated="use @acme/other",
    )
    response = submit(client, tokens["submitter"], name="@acme/setup-thing", version="2.0.0", ecosystem="npm", license="MIT")
    assert response.status_code == 201
    run_jobs(engine)
    rec = record(client, "@acme/setup-thing", "npm")
    assert rec["upstream"]["install_scripts"] == [{"name": "postinstall", "command": "node steal.js"}]
    assert rec["upstream"]["deprecated"] == "use @acme/other"
    assert rec["upstream"]["files"][0]["integrity"].startswith("sha512-")
    assert codes(rec) == {
        "too_new": "info", "deprecated": "info", "install_scripts": "review", "no_repository": "info",
    }
    messages = {s["code"]: s["message"] for s in rec["signals"]}
    assert "5 hours ago" in messages["too_new"]
    assert "node steal.js" in messages["install_scripts"]
    # A review-level signal keeps the version pending with its message among the reasons.
    assert rec["status"] == "pending"
    assert any("node steal.js" in reason for reason in rec["policy_reasons"])


def test_yanked_and_sdist_only_pypi(client, engine, tokens, fake) -> None:
    fake.add_pypi("yankedpkg", "1.0", wheel=False, yanked="broken metadata", license_expression="MIT")
    submit(client, tokens["submitter"], name="yankedpkg", version="1.0", ecosystem="pypi", license="MIT")
    run_jobs(engine)
    rec = record(client, "yankedpkg", "pypi")
    assert rec["upstream"]["yanked"] is True and rec["upstream"]["yanked_reason"] == "broken metadata"
    assert codes(rec)["yanked"] == "review" and codes(rec)["sdist_only"] == "info"


def test_maven_version_is_enriched(client, engine, tokens, fake) -> None:
    fake.add_maven("org.example:demo-lib", "2.1.0", scm_url="https://git.example.internal/demo-lib",
                   dependencies=(("junit:junit", "4.13.2", "test"),))
    submit(client, tokens["submitter"], name="org.example:demo-lib", version="2.1.0", ecosystem="maven", license="Apache-2.0")
    run_jobs(engine)
    rec = record(client, "org.example:demo-lib", "maven")
    assert rec["upstream"]["status"] == "ok"
    assert rec["upstream"]["license"] == "Apache-2.0"
    assert rec["upstream"]["dependencies"] == [{"name": "junit:junit", "requirement": "4.13.2", "scope": "test"}]
    assert rec["signals"] == []


def test_maven_license_inherited_from_the_parent_poms_is_used(client, engine, tokens, fake) -> None:
    # commons-lang3 names no license: it comes from org.apache:apache, two parents up.
    fake.add_apache_commons()
    submit(client, tokens["submitter"], name="org.apache.commons:commons-lang3", version="3.14.0", ecosystem="maven")
    run_jobs(engine)
    rec = record(client, "org.apache.commons:commons-lang3", "maven")
    assert rec["upstream"]["status"] == "ok"
    assert rec["upstream"]["license"] == "Apache-2.0"
    assert rec["license"] == "Apache-2.0"
    assert codes(rec)["license_from_upstream"] == "info"
    assert rec["upstream"]["homepage"] == "https://commons.apache.org/proper/commons-lang/"


def test_not_found_upstream_is_a_dependency_confusion_signal(client, engine, tokens, fake) -> None:
    submit(client, tokens["submitter"], name="acme-internal-utils", version="1.0", ecosystem="pypi", license="MIT")
    run_jobs(engine)
    rec = record(client, "acme-internal-utils", "pypi")
    assert rec["upstream"]["status"] == "not_found"
    signal = next(s for s in rec["signals"] if s["code"] == "not_found_upstream")
    assert signal["level"] == "review" and "dependency confusion" in signal["message"]
    assert rec["status"] == "pending"


def test_not_configured_is_said_plainly_and_typosquat_still_checked(client, engine, tokens, monkeypatch) -> None:
    for eco in ("PYPI", "NPM", "MAVEN"):
        monkeypatch.delenv(f"FOSS_UPSTREAM_{eco}", raising=False)
    get_settings.cache_clear()
    response = submit(client, tokens["submitter"], name="reqeusts", version="1.0", ecosystem="pypi", license="MIT")
    assert response.json()["upstream"]["status"] == "not_configured"
    run_jobs(engine)
    rec = record(client, "reqeusts", "pypi")
    assert rec["upstream"]["status"] == "not_configured"
    assert rec["upstream"]["reason"] == "FOSS_UPSTREAM_PYPI is not set"
    typo = next(s for s in rec["signals"] if s["code"] == "typosquat")
    assert "'requests'" in typo["message"] and typo["level"] == "review"
    # A popular name itself is never a typosquat.
    submit(client, tokens["submitter"], name="requests", version="2.31.0", ecosystem="pypi", license="Apache-2.0")
    run_jobs(engine)
    assert "typosquat" not in codes(record(client, "requests", "pypi"))


def test_typosquat_of_an_approved_name(client, engine, tokens, fake) -> None:
    fake.add_npm("acme-billing-core", "1.0.0", repository="https://git.example.internal/b")
    fake.add_npm("acme-biling-core", "1.0.0", repository="https://git.example.internal/b")
    submit(client, tokens["submitter"], name="acme-billing-core", version="1.0.0", ecosystem="npm", license="MIT")
    run_jobs(engine)
    decided = client.post("/api/v1/reviews", json={"ecosystem": "npm", "name": "acme-billing-core", "version": "1.0.0", "decision": "approve"}, headers=key(tokens["reviewer"]))
    assert decided.status_code == 201, decided.text
    submit(client, tokens["submitter"], name="acme-biling-core", version="1.0.0", ecosystem="npm", license="MIT")
    run_jobs(engine)
    typo = next(s for s in record(client, "acme-biling-core", "npm")["signals"] if s["code"] == "typosquat")
    assert "approved name 'acme-billing-core'" in typo["message"]


@pytest.mark.parametrize(
    ("mode", "value", "reason"),
    [
        ("down", None, "connection closed"),
        ("slow", None, "timed out"),
        ("huge", None, "larger than"),
        ("redirect", None, "another host"),
        ("status", 503, "503"),
    ],
)
def test_unavailable_upstream_never_blocks_and_is_retried_later(
    client, engine, tokens, fake, mode, value, reason, monkeypatch
) -> None:
    if mode == "huge":
        # A 1 MiB limit trips well within the short test deadline however busy the machine.
        monkeypatch.setenv("FOSS_UPSTREAM_MAX_BYTES", str(1 << 20))
        get_settings.cache_clear()
    fake.add_pypi("flaky", "1.0", license_expression="MIT")
    fake.misbehave(mode, "/pypi/simple/flaky", value)
    started = time.monotonic()
    response = submit(client, tokens["submitter"], name="flaky", version="1.0", ecosystem="pypi", license="MIT")
    assert response.status_code == 201
    run_jobs(engine)
    assert time.monotonic() - started < 30
    rec = record(client, "flaky", "pypi")
    assert rec["upstream"]["status"] == "unavailable"
    assert reason in rec["upstream"]["reason"]
    assert any("could not be asked" in r for r in rec["policy_reasons"])
    with engine.connect() as conn:
        later = conn.execute(text("SELECT count(*) FROM jobs WHERE kind = 'enrich' AND status = 'queued'")).scalar()
    assert later == 1  # a retry as a new job, not run yet
    # Once the upstream is back, enriching again gives the facts.
    fake.behave()
    client.post("/api/v1/enrich", json={"ecosystem": "pypi", "name": "flaky", "version": "1.0"}, headers=key(tokens["admin"]))
    run_jobs(engine)
    assert record(client, "flaky", "pypi")["upstream"]["status"] == "ok"


def test_nothing_listening_is_unavailable(client, engine, tokens, monkeypatch) -> None:
    monkeypatch.setenv("FOSS_UPSTREAM_NPM", free_port_url())
    monkeypatch.setenv("FOSS_UPSTREAM_RETRIES", "0")
    get_settings.cache_clear()
    submit(client, tokens["submitter"], name="left-pad", version="1.3.0", ecosystem="npm", license="WTFPL")
    run_jobs(engine)
    up = record(client, "left-pad", "npm")["upstream"]
    assert up["status"] == "unavailable" and "connection" in up["reason"]


def test_malicious_documents_are_unavailable_with_a_reason(client, engine, tokens, fake, monkeypatch) -> None:
    # Time enough to read the 100,000-version packument (about 7 MB) on a busy machine.
    monkeypatch.setenv("FOSS_UPSTREAM_TIMEOUT_SECONDS", "5")
    get_settings.cache_clear()
    fake.add_entity_bomb_pom("org.evil:bomb", "1.0")
    fake.add_huge_packument("many-versions", 100_000)
    submit(client, tokens["submitter"], name="org.evil:bomb", version="1.0", ecosystem="maven", license="MIT")
    submit(client, tokens["submitter"], name="many-versions", version="0.0.1", ecosystem="npm", license="MIT")
    run_jobs(engine)
    bomb = record(client, "org.evil:bomb", "maven")["upstream"]
    assert bomb["status"] == "unavailable" and "DTD or entities" in bomb["reason"]
    many = record(client, "many-versions", "npm")["upstream"]
    assert many["status"] == "unavailable" and "100000 versions" in many["reason"]


def test_html_where_json_was_asked(client, engine, tokens, fake) -> None:
    fake.add_npm("demo", "1.0.0")
    fake.misbehave("html", "/npm/demo")
    submit(client, tokens["submitter"], name="demo", version="1.0.0", ecosystem="npm", license="MIT")
    run_jobs(engine)
    up = record(client, "demo", "npm")["upstream"]
    assert up["status"] == "unavailable" and "text/html" in up["reason"]


def test_second_enrichment_revalidates_with_304(client, engine, tokens, fake) -> None:
    fake.add_npm("stable-pkg", "1.0.0", repository="https://git.example.internal/s")
    submit(client, tokens["submitter"], name="stable-pkg", version="1.0.0", ecosystem="npm", license="MIT")
    run_jobs(engine)
    assert fake.not_modified["/npm/stable-pkg"] == 0
    response = client.post("/api/v1/enrich", json={"ecosystem": "npm", "name": "stable-pkg"}, headers=key(tokens["admin"]))
    assert response.status_code == 202 and response.json()["queued"] == ["1.0.0"]
    run_jobs(engine)
    assert fake.conditional["/npm/stable-pkg"] == 1
    assert fake.not_modified["/npm/stable-pkg"] == 1
    assert record(client, "stable-pkg", "npm")["upstream"]["status"] == "ok"


def test_a_run_over_many_versions_reads_each_document_once(client, engine, tokens, fake) -> None:
    # What `foss enrich` asks: every version of a name shares the one packument, project
    # page or maven-metadata.xml, fetched once in the run (not once per version).
    from foss_registry.enrichment import service as enrichment

    for version in ("1.0.0", "1.1.0", "2.0.0"):
        fake.add_npm("multi-pkg", version)
        fake.add_pypi("multi-py", version, license_expression="MIT")
        fake.add_maven("org.example:multi", version)
        for name, ecosystem in (("multi-pkg", "npm"), ("multi-py", "pypi"), ("org.example:multi", "maven")):
            submit(client, tokens["submitter"], name=name, version=version, ecosystem=ecosystem, license="MIT")
    with engine.connect() as conn:
        ids = [vid for vid, _ in enrichment.all_versions(conn)]
    outcomes = enrichment.fetch_many(engine, ids, concurrency=4)
    assert sorted(vid for vid, _ in outcomes) == sorted(ids)
    assert {outcome.status for _, outcome in outcomes} == {"ok"}
    assert fake.requests["/npm/multi-pkg"] == 1
    assert fake.requests["/pypi/simple/multi-py/"] == 1
    assert fake.requests["/maven/org/example/multi/maven-metadata.xml"] == 1
    assert fake.count("/maven/org/example/multi/") == 1 + 3  # the metadata file and each POM


def test_enrich_route_needs_an_admin_and_a_known_package(client, tokens, fake) -> None:
    body = {"ecosystem": "npm", "name": "@acme/x"}
    assert client.post("/api/v1/enrich", json=body).status_code == 401
    assert client.post("/api/v1/enrich", json=body, headers=key(tokens["reviewer"])).status_code == 403
    missing = client.post("/api/v1/enrich", json=body, headers=key(tokens["admin"]))
    assert missing.status_code == 404 and missing.json()["code"] == "package_not_found"
    bad = client.post("/api/v1/enrich", json={"ecosystem": "cargo", "name": "x"}, headers=key(tokens["admin"]))
    assert bad.status_code == 400
    extra = client.post("/api/v1/enrich", json=body | {"force": True}, headers=key(tokens["admin"]))
    assert extra.status_code == 400


# --- the policy acting on signals -------------------------------------------------------------


@pytest.fixture
def pypi_advisories(engine: Engine, shared_data: Path, tmp_path: Path) -> None:
    """One real PyPI advisory, so scans of other PyPI packages pass."""
    folder = tmp_path / "osv"
    folder.mkdir()
    with zipfile.ZipFile(shared_data / "osv" / "PyPI-pypa.zip") as archive:
        (folder / "PYSEC-2023-62.json").write_bytes(archive.read("PYSEC-2023-62.json"))
    vulndb.import_path(engine, folder, rescans=IMPORT_RESCANS)


def set_policy(client: Any, tokens: dict[str, str], **signals: Any) -> None:
    body = {"auto_approve": True, "signals": signals}
    response = client.put("/api/v1/policy", json=body, headers=key(tokens["admin"]))
    assert response.status_code == 200, response.text
    assert response.json()["signals"]["min_release_age_days"] == signals.get("min_release_age_days", 3)


def history(rec: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["decision"], r["by"]) for r in rec["reviews"]]


def test_auto_approve_waits_for_enrichment_then_approves(client, engine, tokens, fake, pypi_advisories) -> None:
    set_policy(client, tokens)
    fake.add_pypi("goodpkg", "1.0", license_expression="MIT", project_urls={"Source": "https://git.example.internal/g"})
    submit(client, tokens["submitter"], name="goodpkg", version="1.0", ecosystem="pypi", license="MIT")
    worker = new_worker(engine)
    # Run the scan alone first: enrichment still pending, so auto-approve waits.
    with engine.begin() as conn:
        conn.execute(text("UPDATE jobs SET run_after = run_after + interval '1 hour' WHERE kind = 'enrich'")
                     if engine.dialect.name == "postgresql" else
                     text("UPDATE jobs SET run_after = datetime(run_after, '+1 hour') WHERE kind = 'enrich'"))
    worker.run_until_idle()
    rec = record(client, "goodpkg", "pypi")
    assert rec["status"] == "pending"
    assert any("not in yet" in r for r in rec["policy_reasons"])
    with engine.begin() as conn:
        conn.execute(text("UPDATE jobs SET run_after = created_at WHERE kind = 'enrich'"))
    worker.run_until_idle()
    rec = record(client, "goodpkg", "pypi")
    assert rec["status"] == "approved", rec["policy_reasons"]
    assert history(rec) == [("approve", "policy")]


def test_block_level_signal_rejects_with_the_reason_in_history(client, engine, tokens, fake, pypi_advisories) -> None:
    set_policy(client, tokens, typosquat="block")
    fake.add_pypi("reqeusts", "1.0", license_expression="MIT")
    submit(client, tokens["submitter"], name="reqeusts", version="1.0", ecosystem="pypi", license="MIT")
    run_jobs(engine)
    rec = record(client, "reqeusts", "pypi")
    assert rec["status"] == "rejected"
    assert history(rec) == [("reject", "policy")]
    assert "typosquat" in rec["reviews"][0]["comment"] and "'requests'" in rec["reviews"][0]["comment"]


def test_review_level_too_new_keeps_pending(client, engine, tokens, fake, pypi_advisories) -> None:
    set_policy(client, tokens, too_new="review", min_release_age_days=7)
    fake.add_pypi("freshpkg", "1.0", license_expression="MIT", uploaded=datetime.now(UTC) - timedelta(days=2),
                  project_urls={"Source": "https://git.example.internal/f"})
    submit(client, tokens["submitter"], name="freshpkg", version="1.0", ecosystem="pypi", license="MIT")
    run_jobs(engine)
    rec = record(client, "freshpkg", "pypi")
    assert rec["status"] == "pending"
    assert any(r.startswith("too_new: released 2 days ago") for r in rec["policy_reasons"])


def test_invalid_signals_table_is_a_400(client, tokens) -> None:
    body = {"signals": {"typosquat": "explode", "made_up": "block", "min_release_age_days": -1}}
    response = client.put("/api/v1/policy", json=body, headers=key(tokens["admin"]))
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"signals.typosquat", "signals.made_up", "signals.min_release_age_days"}


def test_a_policy_change_relevels_stored_signals(client, engine, tokens, fake, pypi_advisories) -> None:
    fake.add_pypi("reqeusts", "1.0", license_expression="MIT")
    submit(client, tokens["submitter"], name="reqeusts", version="1.0", ecosystem="pypi", license="MIT")
    run_jobs(engine)
    rec = record(client, "reqeusts", "pypi")
    assert rec["status"] == "pending" and codes(rec)["typosquat"] == "review"
    set_policy(client, tokens, typosquat="block")
    run_jobs(engine)  # the re-evaluation the policy change queued
    rec = record(client, "reqeusts", "pypi")
    assert codes(rec)["typosquat"] == "block"
    assert rec["status"] == "rejected" and history(rec) == [("reject", "policy")]


def test_docker_images_are_not_configured_without_the_optional_registry(client, engine, tokens, fake, monkeypatch) -> None:
    monkeypatch.delenv("FOSS_UPSTREAM_DOCKER", raising=False)
    response = submit(client, tokens["submitter"], name="library/nginx", version="1.25.3", ecosystem="docker", license="BSD-2-Clause")
    assert response.json()["upstream"]["status"] == "not_configured"
    run_jobs(engine)
    up = record(client, "nginx", "docker")["upstream"]
    assert up["status"] == "not_configured"
    assert up["reason"] == "FOSS_UPSTREAM_DOCKER is not set"


def test_docker_image_is_enriched_from_the_registry(client, engine, tokens, fake, monkeypatch) -> None:
    # Behind the token handshake, with credentials in the setting: none of them is shown.
    fake.docker_token_auth = True
    built = datetime.now(UTC) - timedelta(hours=5)
    digest = fake.add_docker("library/nginx", "1.25.3", created=built, labels={
        "org.opencontainers.image.licenses": "BSD-2-Clause",
        "org.opencontainers.image.source": "https://git.example.internal/nginx",
    })
    monkeypatch.setenv("FOSS_UPSTREAM_DOCKER", fake.docker_url.replace("http://", "http://robot:hunter2@"))
    get_settings.cache_clear()
    response = submit(client, tokens["submitter"], name="nginx", version="1.25.3", ecosystem="docker")
    assert response.json()["upstream"]["status"] == "pending"
    submit(client, tokens["submitter"], name="library/nginx", version="9.9.9", ecosystem="docker", license="BSD-2-Clause")
    submit(client, tokens["submitter"], name="registry.example.internal/team/app", version="1.0", ecosystem="docker", license="MIT")
    run_jobs(engine)
    rec = record(client, "nginx", "docker", "1.25.3")
    up = rec["upstream"]
    assert up["status"] == "ok"
    assert up["source"] == fake.docker_url + "v2/library/nginx/manifests/1.25.3"
    assert up["released_at"] == built.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert up["license"] == "BSD-2-Clause" and rec["license"] == "BSD-2-Clause"
    assert up["repository"] == "https://git.example.internal/nginx"
    assert up["files"] == [{"filename": f"library/nginx@{digest}", "kind": "manifest", "sha256": digest.split(":")[1]}]
    assert codes(rec)["too_new"] == "info" and codes(rec)["license_from_upstream"] == "info"
    missing = record(client, "nginx", "docker", "9.9.9")
    assert missing["upstream"]["status"] == "not_found"
    assert codes(missing)["not_found_upstream"] == "review"
    other = record(client, "registry.example.internal/team/app", "docker")["upstream"]
    assert other["status"] == "not_configured" and "registry.example.internal" in other["reason"]
    assert "hunter2" not in str(client.get("/api/v1/packages/nginx", params={"ecosystem": "docker"}).json())
