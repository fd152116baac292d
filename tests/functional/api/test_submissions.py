"""``POST /submissions``: many submissions in one request, each answered as POST /packages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from foss_registry.db import read_connection
from foss_registry.packages.models import package_versions
from tests.functional.conftest import key, submit

INTEGRITY = "sha512-dY7FptX7pZk0Uc0bh3+7yEBrNW6RcFNz+vfA4xoatpWH3oSpq0KWn4UQZyR/xWo5ux0S9KP+v5lTIZ9EzXkyOA=="


def batch(client: Any, token: str | None, *packages: dict[str, Any]) -> Any:
    headers = key(token) if token else {}
    return client.post("/api/v1/submissions", json={"packages": list(packages)}, headers=headers)


def stored(engine: Engine) -> int:
    with read_connection(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(package_versions)).scalar_one())


def test_each_submission_is_answered_as_post_packages_answers_it(
    client: Any, engine: Engine, tokens: dict[str, str]
) -> None:
    assert submit(client, tokens["submitter"], name="flask", version="2.3.0").status_code == 201
    lodash = {
        "name": "lodash",
        "version": "4.17.21",
        "ecosystem": "npm",
        "license": "MIT",
        "resolved": "https://npm.example.test/lodash/-/lodash-4.17.21.tgz",
        "integrity": INTEGRITY,
    }
    response = batch(
        client,
        tokens["submitter"],
        lodash,
        {"name": "Flask", "version": "2.3", "ecosystem": "pypi"},  # 2.3 = 2.3.0: a duplicate
        {"name": "requests", "version": "not a version!", "ecosystem": "pypi"},
        {"name": "left-pad", "version": "1.3.0", "ecosystem": "npm", "integrity": "md5:abc"},
        {"name": "lodash", "version": "v4.17.21", "ecosystem": "npm"},  # twice in the batch
        {"name": "idna", "version": "3.6", "ecosystem": "pypi", "license": "BSD-3-Clause"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == [201, 409, 400, 400, 409, 201]
    assert (body["created"], body["existing"], body["invalid"]) == (2, 2, 2)
    created = body["results"][0]
    assert created["package"]["license"] == "MIT" and created["package"]["submitted_by"] == "alice"
    assert created["package"]["resolved"] == lodash["resolved"]
    assert created["package"]["integrity"] == INTEGRITY
    assert created["location"] == "/api/v1/packages/lodash?ecosystem=npm&version=4.17.21"
    duplicate = body["results"][1]["problem"]
    assert duplicate["code"] == "already_exists" and duplicate["status"] == 409
    invalid = body["results"][2]["problem"]
    assert invalid["code"] == "invalid_version" and invalid["errors"][0]["field"] == "version"
    assert body["results"][3]["problem"]["errors"][0]["field"] == "integrity"
    # Stored: flask before, lodash and idna now; the refused ones left nothing behind.
    assert stored(engine) == 3
    record = client.get("/api/v1/packages/lodash").json()
    assert (record["integrity"], record["status"]) == (INTEGRITY, "pending")
    scan = client.get("/api/v1/security/scans/lodash").json()
    assert scan["status"] == "pending"  # queued with the submission, as for POST /packages


def test_a_batch_needs_a_submitter_key_and_a_valid_shape(
    client: Any, engine: Engine, tokens: dict[str, str]
) -> None:
    one = {"name": "idna", "version": "3.6", "ecosystem": "pypi"}
    assert batch(client, None, one).status_code == 401
    assert batch(client, "foss_not-a-real-token", one).status_code == 403
    empty = batch(client, tokens["submitter"])
    assert empty.status_code == 400 and empty.json()["errors"][0]["field"].startswith("packages")
    too_many = batch(client, tokens["submitter"], *[one] * 1001)
    assert too_many.status_code == 400
    unknown_field = batch(client, tokens["submitter"], one | {"status": "approved"})
    assert unknown_field.status_code == 400
    assert stored(engine) == 0


def test_post_packages_validates_integrity_and_resolved_too(
    client: Any, tokens: dict[str, str]
) -> None:
    bad = submit(client, tokens["submitter"], integrity="sha512 not base64")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_integrity"
    url = submit(client, tokens["submitter"], resolved="file:///etc/passwd")
    assert url.status_code == 400 and url.json()["errors"][0]["field"] == "resolved"
