"""Real pip, uv and npm installing through a real `foss serve` in front of the fake upstream."""

from __future__ import annotations

import hashlib
import http.client
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine

from tests.fakes.upstream import FakeUpstream
from tests.functional.index.conftest import (
    UV,
    Registry,
    Trap,
    clean_env,
    npm,
    pip,
    run,
    start_registry,
)

WHEEL_1 = "demo_pkg-1.0.0-py3-none-any.whl"
WHEEL_2 = "demo_pkg-2.0.0-py3-none-any.whl"


def upstream_file(fake: FakeUpstream, filename: str) -> bytes:
    return next(f.data for f in fake.projects["demo-pkg"].files if f.filename == filename)


def test_pip_installs_an_approved_version_and_nothing_else(
    registry: Registry, fake: FakeUpstream, trap: Trap, tmp_path: Path
) -> None:
    registry.approve("pypi", "Demo_Pkg", "1.0.0")

    got = pip(registry, trap, tmp_path, "download", "--no-deps", "-d", "dl", "demo-pkg==1.0.0")
    assert got.returncode == 0, got.stdout + got.stderr
    downloaded = tmp_path / "dl" / WHEEL_1
    assert (
        hashlib.sha256(downloaded.read_bytes()).digest()
        == hashlib.sha256(upstream_file(fake, WHEEL_1)).digest()
    )

    refused = pip(
        registry, trap, tmp_path, "install", "--no-deps", "--target", "t2", "demo-pkg==2.0.0"
    )
    assert refused.returncode != 0
    assert "from versions: 1.0.0" in refused.stderr and "No matching distribution" in refused.stderr

    # Approved later: installs at once, nothing restarted.
    registry.approve("pypi", "demo-pkg", "2.0.0")
    again = pip(
        registry, trap, tmp_path, "install", "--no-deps", "--target", "t2", "demo-pkg==2.0.0"
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert (tmp_path / "t2" / "demo_pkg-2.0.0.dist-info").is_dir()

    # Rejected afterwards: gone from the listing at once.
    registry.decide("pypi", "demo-pkg", "2.0.0", "reject")
    gone = pip(registry, trap, tmp_path, "download", "--no-deps", "-d", "dl3", "demo-pkg==2.0.0")
    assert gone.returncode != 0 and "from versions: 1.0.0)" in gone.stderr
    assert trap.connections == 0


def test_a_pinned_direct_url_to_an_unapproved_file_fails_at_the_file(
    registry: Registry, fake: FakeUpstream, trap: Trap, tmp_path: Path
) -> None:
    registry.approve("pypi", "demo-pkg", "1.0.0")
    registry.submit("pypi", "demo-pkg", "2.0.0")  # pending
    url = f"{registry.url}/simple/demo-pkg/{WHEEL_2}"
    digest = hashlib.sha256(upstream_file(fake, WHEEL_2)).hexdigest()
    (tmp_path / "requirements.txt").write_text(f"demo-pkg @ {url} --hash=sha256:{digest}\n")
    got = pip(
        registry, trap, tmp_path, "install", "--no-deps", "--target", "t", "-r", "requirements.txt"
    )
    assert got.returncode != 0
    assert "403" in got.stderr and WHEEL_2 in got.stderr
    # What the refusal says (pip shows the status line; the body says why).
    answer = httpx.get(url)
    assert answer.status_code == 403
    assert "demo-pkg 2.0.0 is not approved" in answer.text and "status: pending" in answer.text
    assert f"{registry.url}/packages/pypi/demo-pkg" in answer.text
    assert fake.count("/pypi/files/demo-pkg/demo_pkg-2.0.0") == 0
    assert [b["file"] for b in registry.blocked()] == [WHEEL_2, WHEEL_2]
    assert trap.connections == 0


def test_a_second_install_does_not_touch_upstream_and_a_tampered_file_is_502(
    registry: Registry, fake: FakeUpstream, trap: Trap, tmp_path: Path
) -> None:
    registry.approve("pypi", "demo-pkg", "1.0.0")
    registry.approve("pypi", "demo-pkg", "2.0.0")
    for target in ("a", "b"):
        got = pip(
            registry, trap, tmp_path, "install", "--no-deps", "--target", target, "demo-pkg==1.0.0"
        )
        assert got.returncode == 0, got.stderr
    assert fake.requests[f"/pypi/files/demo-pkg/{WHEEL_1}"] == 1
    assert fake.requests[f"/pypi/files/demo-pkg/{WHEEL_1}.metadata"] == 1

    fake.misbehave("tamper", f"/pypi/files/demo-pkg/{WHEEL_2}")
    got = pip(registry, trap, tmp_path, "install", "--no-deps", "--target", "c", "demo-pkg==2.0.0")
    assert got.returncode != 0 and "502" in got.stderr
    answer = httpx.get(f"{registry.url}/simple/demo-pkg/{WHEEL_2}")
    assert answer.status_code == 502
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "hash_mismatch"
    # The tampered wheel (and its tampered .metadata) were not kept.
    assert sorted(p.name for p in registry.cached_files()) == [WHEEL_1, f"{WHEEL_1}.metadata"]
    assert trap.connections == 0


def test_uv_installs_an_approved_version_only(
    registry: Registry, fake: FakeUpstream, trap: Trap, tmp_path: Path
) -> None:
    assert UV.exists(), "uv is a dev dependency: run make install"
    registry.approve("pypi", "demo-pkg", "1.0.0")
    env = clean_env(tmp_path / "home", trap) | {"UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    base = [
        str(UV),
        "pip",
        "install",
        "--no-deps",
        "--python",
        sys.executable,
        "--index-url",
        f"{registry.url}/simple/",
    ]
    got = run([*base, "--target", "t", "demo-pkg==1.0.0"], env, tmp_path)
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "t" / "demo_pkg-1.0.0.dist-info").is_dir()
    refused = run([*base, "--target", "t2", "demo-pkg==2.0.0"], env, tmp_path)
    assert refused.returncode != 0 and "demo-pkg" in refused.stderr
    assert not (tmp_path / "t2" / "demo_pkg-2.0.0.dist-info").exists()
    assert trap.connections == 0


def test_npm_installs_approved_versions_scoped_too_and_refuses_the_rest(
    registry: Registry, fake: FakeUpstream, trap: Trap, tmp_path: Path
) -> None:
    registry.approve("npm", "left-pad", "1.0.0")
    registry.approve("npm", "@acme/util", "0.1.0")
    app = tmp_path / "app"
    got = npm(registry, trap, app, "install", "left-pad@1.0.0", "@acme/util")
    assert got.returncode == 0, got.stdout + got.stderr
    assert (
        json.loads((app / "node_modules/left-pad/package.json").read_text())["version"] == "1.0.0"
    )
    assert (app / "node_modules/@acme/util/package.json").is_file()
    lock = json.loads((app / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/left-pad"]
    assert (
        entry["integrity"] == fake.packuments["left-pad"]["versions"]["1.0.0"]["dist"]["integrity"]
    )
    assert entry["resolved"].startswith(f"{registry.url}/npm/left-pad/-/")

    refused = npm(registry, trap, tmp_path / "app2", "install", "left-pad@1.1.0")
    assert refused.returncode != 0 and "No matching version" in refused.stderr

    # A lockfile pinning the unapproved version fails at the tarball, with the reason.
    pinned = tmp_path / "app3"
    pinned.mkdir()
    (pinned / "package.json").write_text(
        json.dumps({"name": "pinned", "version": "1.0.0", "dependencies": {"left-pad": "1.1.0"}})
    )
    meta = fake.packuments["left-pad"]["versions"]["1.1.0"]
    (pinned / "package-lock.json").write_text(
        json.dumps(
            {
                "name": "pinned",
                "version": "1.0.0",
                "lockfileVersion": 3,
                "requires": True,
                "packages": {
                    "": {
                        "name": "pinned",
                        "version": "1.0.0",
                        "dependencies": {"left-pad": "1.1.0"},
                    },
                    "node_modules/left-pad": {
                        "version": "1.1.0",
                        "resolved": f"{registry.url}/npm/left-pad/-/left-pad-1.1.0.tgz",
                        "integrity": meta["dist"]["integrity"],
                    },
                },
            }
        )
    )
    ci = npm(registry, trap, pinned, "ci")
    assert ci.returncode != 0
    assert "403" in ci.stderr and "left-pad 1.1.0 is not approved" in ci.stderr
    assert f"{registry.url}/packages/npm/left-pad" in ci.stderr

    # Approved later: the same lockfile installs, nothing restarted.
    registry.approve("npm", "left-pad", "1.1.0")
    ci = npm(registry, trap, pinned, "ci")
    assert ci.returncode == 0, ci.stderr
    assert trap.connections == 0


def test_audit_mode_installs_and_records(
    tmp_path: Path, database_url: str, engine: Engine, fake: FakeUpstream, trap: Trap
) -> None:
    registry = start_registry(tmp_path, database_url, engine, fake, FOSS_INDEX_MODE="audit")
    try:
        assert "approved-only index in audit mode: /simple/ (PyPI upstream configured)" in (
            registry.server.log()
        )
        assert fake.url not in registry.server.log()
        got = pip(
            registry, trap, tmp_path, "install", "--no-deps", "--target", "t", "demo-pkg==2.0.0"
        )
        assert got.returncode == 0, got.stderr
        installed = npm(registry, trap, tmp_path / "app", "install", "left-pad@1.1.0")
        assert installed.returncode == 0, installed.stderr
        blocked = {
            (b["ecosystem"], b["version"], b["status"], b["mode"]) for b in registry.blocked()
        }
        assert blocked == {
            ("pypi", "2.0.0", "not submitted", "audit"),
            ("npm", "1.1.0", "not submitted", "audit"),
        }
        metrics = httpx.get(f"{registry.url}/metrics").text
        assert 'foss_index_blocked_total{ecosystem="npm",mode="audit"} 1.0' in metrics
        assert trap.connections == 0
    finally:
        registry.server.stop()


def test_paths_as_written_on_the_wire_never_escape_the_cache(
    registry: Registry, fake: FakeUpstream
) -> None:
    registry.approve("pypi", "demo-pkg", "1.0.0")
    assert httpx.get(f"{registry.url}/simple/demo-pkg/{WHEEL_1}").status_code == 200
    parts = urlsplit(registry.url)
    for raw in (
        "/simple/demo-pkg/../../etc/passwd",
        "/simple/../../../etc/passwd",
        "/simple/demo-pkg/%2e%2e",
        "/simple/demo-pkg/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/npm/left-pad/-/../../../etc/passwd",
        "/simple/" + "a" * 10_000 + "/",
    ):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", raw)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        # The edge resolves dot segments first (RFC 3986), so a traversal lands on another
        # path of this server: a problem under /simple/, the pages' 404 elsewhere, or the
        # index's own redirect to /simple/ for '/simple/demo-pkg/..'.
        assert response.status in (301, 400, 404), (raw, response.status)
        if response.status == 301:
            assert response.getheader("location") == "/simple/"
        content_type = response.getheader("content-type", "")
        if response.status == 400:
            assert content_type.startswith("application/problem+json"), (raw, content_type)
        assert b"root:" not in body
    assert [p.name for p in registry.cached_files()] == [WHEEL_1]
