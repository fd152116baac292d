"""The index over HTTP in-process: bad input, upstream trouble, tokens, requests for review."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from foss_registry.config import Settings
from tests.conftest import make_client
from tests.fakes.upstream import FakeUpstream
from tests.functional.conftest import key

WHEEL_1 = "demo_pkg-1.0.0-py3-none-any.whl"
JSON = "application/vnd.pypi.simple.v1+json"


def make(
    engine: Engine, database_url: str, fake: FakeUpstream, tmp_path: Path, **extra: Any
) -> Any:
    settings = Settings(
        database_url=database_url,
        rate_limits_enabled=False,
        upstream_pypi=fake.pypi_url,
        upstream_npm=fake.npm_url,
        index_cache_dir=tmp_path / "cache",
        **extra,
    )
    return make_client(settings, engine)


@pytest.fixture
def client(engine: Engine, database_url: str, fake: FakeUpstream, tmp_path: Path) -> Iterator[Any]:
    with make(engine, database_url, fake, tmp_path) as c:
        yield c


def approve(client: Any, tokens: dict[str, str], ecosystem: str, name: str, version: str) -> None:
    body = {"ecosystem": ecosystem, "name": name, "version": version, "license": "MIT"}
    assert (
        client.post("/api/v1/packages", json=body, headers=key(tokens["submitter"])).status_code
        == 201
    )
    decide(client, tokens, ecosystem, name, version, "approve")


def decide(
    client: Any, tokens: dict[str, str], ecosystem: str, name: str, version: str, decision: str
) -> None:
    body = {
        "ecosystem": ecosystem,
        "name": name,
        "version": version,
        "decision": decision,
        "comment": "c",
    }
    r = client.post("/api/v1/reviews", json=body, headers=key(tokens["reviewer"]))
    assert r.status_code == 201, r.text


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def cached(tmp_path: Path) -> list[Path]:
    root = tmp_path / "cache"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_any_spelling_answers_the_normalised_page_and_json_by_accept(
    client: Any, tokens: dict[str, str]
) -> None:
    approve(client, tokens, "pypi", "demo-pkg", "1.0.0")
    page = client.get("/simple/Demo.PKG/", headers={"Accept": JSON})
    assert page.status_code == 200 and page.headers["content-type"] == JSON
    doc = page.json()
    assert doc["name"] == "demo-pkg"
    assert {f["filename"] for f in doc["files"]} == {WHEEL_1, "demo_pkg-1.0.0.tar.gz"}
    assert all(f["url"].startswith("../demo-pkg/") for f in doc["files"])
    redirect = client.get("/simple/Demo_Pkg", follow_redirects=False)
    assert redirect.status_code == 301 and redirect.headers["location"] == "/simple/demo-pkg/"
    head = client.head("/simple/demo-pkg/")
    assert head.status_code == 200 and head.content == b""
    problem(client.post("/simple/demo-pkg/"), 405)


def test_a_decision_shows_in_the_next_listing(client: Any, tokens: dict[str, str]) -> None:
    approve(client, tokens, "pypi", "demo-pkg", "1.0.0")
    approve(client, tokens, "npm", "left-pad", "1.0.0")
    approve(client, tokens, "npm", "left-pad", "1.1.0")
    assert "demo_pkg-1.0.0" in client.get("/simple/demo-pkg/").text
    assert client.get("/npm/left-pad").json()["dist-tags"]["latest"] == "1.1.0"
    decide(client, tokens, "pypi", "demo-pkg", "1.0.0", "reject")
    decide(client, tokens, "npm", "left-pad", "1.1.0", "reject")
    assert "demo_pkg-1.0.0" not in client.get("/simple/demo-pkg/").text
    doc = client.get("/npm/left-pad").json()
    assert list(doc["versions"]) == ["1.0.0"] and doc["dist-tags"]["latest"] == "1.0.0"
    assert "1.1.0" not in doc["time"]
    refused = client.get("/npm/left-pad/-/left-pad-1.1.0.tgz")
    assert refused.status_code == 403 and "status: rejected" in refused.json()["error"]


def test_nothing_approved_is_an_empty_page_for_pip_and_a_404_for_npm(client: Any) -> None:
    page = client.get("/simple/demo-pkg/")
    assert page.status_code == 200 and "<a " not in page.text
    npm = client.get("/npm/left-pad")
    assert npm.status_code == 404 and "No version of left-pad is approved" in npm.json()["error"]
    problem(client.get("/simple/unknown-project/"), 404)
    assert "error" in problem(client.get("/npm/unknown-package"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/simple/" + "a" * 10_000 + "/",
        "/simple/demo-pkg/%2e%2e%2fetc%2fpasswd",
        "/npm/left-pad/-/..%2f..%2fx.tgz",
        "/npm/left-pad/-/left-pad-..tgz",
        "/npm/" + "b" * 10_000,
        "/npm/@scope",
        "/simple/demo-pkg/demo_pkg-1.0.0-py3-none-any.whl/extra",
    ],
)
# Paths with dot segments are sent as written by test_real_clients (this client normalises them).
def test_bad_paths_are_4xx_problems_and_cache_nothing(
    client: Any, tmp_path: Path, path: str
) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    problem(response, response.status_code)
    assert cached(tmp_path) == []


def test_an_upstream_answering_html_where_json_was_asked_is_502(
    client: Any, tokens: dict[str, str], fake: FakeUpstream, tmp_path: Path
) -> None:
    approve(client, tokens, "pypi", "demo-pkg", "1.0.0")
    approve(client, tokens, "npm", "left-pad", "1.0.0")
    fake.misbehave("html", "/npm/left-pad")
    fake.misbehave("html", "/pypi/simple/")
    assert problem(client.get("/npm/left-pad"), 502)["code"] == "bad_upstream"
    assert problem(client.get("/npm/left-pad/-/left-pad-1.0.0.tgz"), 502)["code"] == "bad_upstream"
    assert problem(client.get("/simple/demo-pkg/"), 502)["code"] == "bad_upstream"
    assert problem(client.get(f"/simple/demo-pkg/{WHEEL_1}"), 502)["code"] == "bad_upstream"
    fake.misbehave("down", "/")
    assert problem(client.get("/npm/@acme/util"), 502)["code"] == "bad_upstream"
    assert cached(tmp_path) == []


def test_a_tampered_tarball_is_502_and_not_kept(
    client: Any, tokens: dict[str, str], fake: FakeUpstream, tmp_path: Path
) -> None:
    approve(client, tokens, "npm", "@acme/util", "0.1.0")
    fake.misbehave("tamper", "/npm/@acme/util/-/")
    assert problem(client.get("/npm/@acme/util/-/util-0.1.0.tgz"), 502)["code"] == "hash_mismatch"
    assert cached(tmp_path) == []
    fake.behave()
    good = client.get("/npm/@acme%2futil/-/util-0.1.0.tgz")
    assert good.status_code == 200
    integrity = fake.packuments["@acme/util"]["versions"]["0.1.0"]["dist"]["integrity"]
    import base64

    assert "sha512-" + base64.b64encode(hashlib.sha512(good.content).digest()).decode() == integrity


def test_accepting_neither_format_is_406(client: Any) -> None:
    problem(client.get("/simple/demo-pkg/", headers={"Accept": "application/json"}), 406)
    problem(client.get("/npm/left-pad", headers={"Accept": "text/html"}), 406)


def test_a_required_token_comes_as_basic_auth_password_or_bearer(
    engine: Engine, database_url: str, fake: FakeUpstream, tmp_path: Path, tokens: dict[str, str]
) -> None:
    with make(engine, database_url, fake, tmp_path, index_require_token=True) as c:
        approve(c, tokens, "npm", "left-pad", "1.0.0")
        missing = c.get("/simple/demo-pkg/")
        problem(missing, 401)
        assert missing.headers["www-authenticate"].startswith("Basic")
        problem(c.get("/npm/left-pad", headers={"Authorization": "Bearer foss_wrong"}), 403)
        assert c.get("/simple/demo-pkg/", auth=("token", tokens["submitter"])).status_code == 200
        bearer = {"Authorization": f"Bearer {tokens['submitter']}"}
        assert c.get("/npm/left-pad", headers=bearer).status_code == 200
        answer = c.get("/npm/left-pad", headers=bearer).text
        assert tokens["submitter"] not in answer


def test_a_refused_install_with_a_submitter_token_asks_for_review_once(
    engine: Engine, database_url: str, fake: FakeUpstream, tmp_path: Path, tokens: dict[str, str]
) -> None:
    with make(engine, database_url, fake, tmp_path, index_request_on_block=True) as c:
        bearer = {"Authorization": f"Bearer {tokens['submitter']}"}
        anonymous = c.get("/npm/left-pad/-/left-pad-1.1.0.tgz")
        assert anonymous.status_code == 403
        assert c.get("/api/v1/packages/left-pad", params={"ecosystem": "npm"}).status_code == 404
        for _ in range(3):
            refused = c.get("/npm/left-pad/-/left-pad-1.1.0.tgz", headers=bearer)
            assert refused.status_code == 403
        record = c.get("/api/v1/packages/left-pad", params={"ecosystem": "npm"}).json()
        assert record["version"] == "1.1.0" and record["status"] == "pending"
        assert record["submitted_by"] == "alice"
        assert [v["version"] for v in record["versions"]] == ["1.1.0"]
        listed = c.get("/api/v1/index/blocked", headers=key(tokens["admin"])).json()
        assert [b["status"] for b in listed["blocked"]] == [
            "pending",
            "pending",
            "not submitted",
            "not submitted",
        ]
        problem(c.get("/api/v1/index/blocked", headers=key(tokens["submitter"])), 403)
        problem(c.get("/api/v1/index/blocked"), 401)


def test_index_routes_are_labelled_by_template_in_metrics(client: Any) -> None:
    client.get("/simple/demo-pkg/")
    client.get("/simple/" + "x" * 50 + "/")
    text = client.get("/metrics").text
    assert 'route="/simple/{project}/"' in text
    assert "x" * 50 not in text
