"""Submitting, reading, listing and searching package versions over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.functional.conftest import key, submit

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["detail"].endswith((".", "?", ")")) and len(body["detail"]) > 10
    if code is not None:
        assert body["code"] == code, body
    return body


def test_submit_returns_201_full_record_and_location(client: Any, tokens: dict[str, str]) -> None:
    response = submit(
        client,
        tokens["submitter"],
        name="Flask",
        license="BSD-3-Clause",
        description="A lightweight WSGI web application framework",
        homepage="https://flask.palletsprojects.com",
        repository="https://github.com/pallets/flask",
        justification="Web UI of the billing service",
        submitted_by="mallory@example.com",
    )
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["name"] == "Flask"
    assert record["version"] == "2.3.0"
    assert record["ecosystem"] == "pypi"
    assert record["status"] == "pending"
    assert record["license"] == "BSD-3-Clause"
    assert record["purl"] == "pkg:pypi/flask@2.3.0"
    # The token decides who submitted, never the body.
    assert record["submitted_by"] == "alice"
    assert record["submitted_at"].endswith("Z")
    assert record["approved_by"] is None and record["approved_at"] is None
    assert record["versions"] == [{"version": "2.3.0", "status": "pending"}]
    assert record["reviews"] == []
    location = response.headers["location"]
    assert location == "/api/v1/packages/Flask?ecosystem=pypi&version=2.3.0"
    assert client.get(location).json()["version"] == "2.3.0"


def test_duplicate_by_normalised_name_and_version_is_409(
    client: Any, tokens: dict[str, str]
) -> None:
    assert (
        submit(client, tokens["submitter"], name="zope_interface", version="1.0").status_code == 201
    )
    again = submit(client, tokens["submitter"], name="Zope.Interface", version="1.0.0")
    assert_problem(again, 409, "already_exists")
    listing = client.get("/api/v1/packages").json()
    assert listing["total"] == 1


def test_name_shown_as_first_submitted_across_spellings(
    client: Any, tokens: dict[str, str]
) -> None:
    submit(client, tokens["submitter"], name="Flask", version="2.3.0")
    submit(client, tokens["submitter"], name="FLASK", version="2.3.1")
    record = client.get("/api/v1/packages/flask").json()
    assert record["name"] == "Flask"
    assert record["version"] == "2.3.1"


def test_detail_picks_highest_version_by_ecosystem_order(
    client: Any, tokens: dict[str, str]
) -> None:
    for v in ("2.9.0", "2.10.0", "2.10.0rc1", "1.0"):
        assert submit(client, tokens["submitter"], name="requests", version=v).status_code == 201
    record = client.get("/api/v1/packages/requests").json()
    assert record["version"] == "2.10.0"
    assert [v["version"] for v in record["versions"]] == ["2.10.0", "2.10.0rc1", "2.9.0", "1.0"]
    chosen = client.get("/api/v1/packages/requests", params={"version": "2.9"}).json()
    assert chosen["version"] == "2.9.0"


def test_names_with_slashes_and_colons_work_in_the_path(
    client: Any, tokens: dict[str, str]
) -> None:
    t = tokens["submitter"]
    assert (
        submit(client, t, name="@babel/core", version="7.24.0", ecosystem="npm").status_code == 201
    )
    assert (
        submit(
            client,
            t,
            name="org.apache.logging.log4j:log4j-core",
            version="2.14.1",
            ecosystem="maven",
        ).status_code
        == 201
    )
    assert submit(client, t, name="nginx", version="1.25.3", ecosystem="docker").status_code == 201
    babel = client.get("/api/v1/packages/@babel/core").json()
    assert babel["purl"] == "pkg:npm/%40babel/core@7.24.0"
    log4j = client.get("/api/v1/packages/org.apache.logging.log4j:log4j-core").json()
    assert log4j["purl"] == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    nginx = client.get("/api/v1/packages/library/nginx").json()
    assert nginx["name"] == "nginx" and nginx["ecosystem"] == "docker"
    assert client.get("/api/v1/packages/docker.io/library/nginx").json()["version"] == "1.25.3"


def test_name_in_two_ecosystems_needs_the_ecosystem(client: Any, tokens: dict[str, str]) -> None:
    submit(client, tokens["submitter"], name="left-pad", version="1.0.0", ecosystem="npm")
    submit(client, tokens["submitter"], name="left-pad", version="1.0.0", ecosystem="pypi")
    body = assert_problem(client.get("/api/v1/packages/left-pad"), 400, "ambiguous_package")
    assert "npm" in body["detail"] and "pypi" in body["detail"]
    assert (
        client.get("/api/v1/packages/left-pad", params={"ecosystem": "NPM"}).json()["ecosystem"]
        == "npm"
    )


def test_unknown_package_and_version_are_404(client: Any, tokens: dict[str, str]) -> None:
    assert_problem(client.get("/api/v1/packages/nothing-here"), 404, "package_not_found")
    submit(client, tokens["submitter"])
    assert_problem(
        client.get("/api/v1/packages/flask", params={"version": "9.9.9"}), 404, "version_not_found"
    )


def test_list_filters_and_pages(client: Any, tokens: dict[str, str]) -> None:
    t = tokens["submitter"]
    for i in range(5):
        submit(client, t, name=f"pkg{i}", version="1.0")
    submit(client, t, name="lodash", version="4.17.21", ecosystem="npm")
    page = client.get("/api/v1/packages", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 6 and page["limit"] == 2 and page["offset"] == 1
    assert [p["name"] for p in page["packages"]] == ["pkg0", "pkg1"]
    assert set(page["packages"][0]) == {"name", "version", "ecosystem", "status", "license"}
    npm = client.get("/api/v1/packages", params={"ecosystem": "npm"}).json()
    assert [p["name"] for p in npm["packages"]] == ["lodash"]
    assert client.get("/api/v1/packages", params={"status": "approved"}).json()["total"] == 0
    assert client.get("/api/v1/packages", params={"status": "pending"}).json()["total"] == 6


def test_search_ranks_exact_then_prefix_then_rest(client: Any, tokens: dict[str, str]) -> None:
    t = tokens["submitter"]
    submit(client, t, name="flask-login", version="0.6.3", description="User sessions")
    submit(
        client, t, name="quart", version="0.19", description="An async re-implementation of Flask"
    )
    submit(client, t, name="Flask", version="2.3.0", description="Micro framework")
    submit(client, t, name="pytest-flask", version="1.3.0")
    submit(client, t, name="django", version="5.0", description="The web framework")
    found = client.get("/api/v1/packages", params={"search": "FLASK"}).json()
    assert [p["name"] for p in found["packages"]] == [
        "Flask",
        "flask-login",
        "pytest-flask",
        "quart",
    ]
    assert found["total"] == 4
    # Short terms match the name prefix only.
    short = client.get("/api/v1/packages", params={"search": "dj"}).json()
    assert [p["name"] for p in short["packages"]] == ["django"]
    assert client.get("/api/v1/packages", params={"search": "zzz-nothing"}).json()["total"] == 0


def test_timestamps_are_utc_whatever_zone_the_database_sets(
    client: Any, engine: Engine, tokens: dict[str, str]
) -> None:
    if engine.dialect.name == "postgresql":
        # An operator's database whose sessions default to another zone.
        with engine.connect() as conn:
            conn.execute(
                text(f"ALTER DATABASE \"{engine.url.database}\" SET timezone TO 'Asia/Kolkata'")
            )
            conn.commit()
        engine.dispose()
    before = datetime.now(UTC).replace(microsecond=0)
    created = submit(client, tokens["submitter"], name="tzdata", version="2024.1").json()
    shown = client.get("/api/v1/packages/tzdata").json()
    after = datetime.now(UTC)
    for stamp in (created["submitted_at"], shown["submitted_at"]):
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert before <= moment <= after + timedelta(seconds=1), stamp


def test_description_words_match_without_case_or_accents(
    client: Any, tokens: dict[str, str]
) -> None:
    t = tokens["submitter"]
    for name, description in (
        ("unidecode", "Für Übersetzer, naïve"),
        ("plain", "Fur and uber, in ASCII"),
        ("german", "Straße und Øre"),
        ("russian", "йогурт"),
        ("yoruba", "ọ̀ṣun"),
    ):
        submit(client, t, name=name, version="1.0", description=description)
    # Accents are marks on a letter; letters of their own (ß, ø) stay themselves.
    for term, expected in (
        ("für", ["plain", "unidecode"]),
        ("FUR", ["plain", "unidecode"]),
        ("Ubersetzer", ["unidecode"]),
        ("übersetzer", ["unidecode"]),
        ("naive", ["unidecode"]),
        ("straße", ["german"]),
        ("strasse", []),
        ("ØRE", ["german"]),
        ("ore", []),
        ("иогурт", ["russian"]),
        ("osun", ["yoruba"]),
    ):
        found = client.get("/api/v1/packages", params={"search": term}).json()
        names = [p["name"] for p in found["packages"]]
        assert names == expected and found["total"] == len(expected), term


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "flask", "version": "2.3.0", "ecosystem": "cargo"}, "ecosystem"),
        ({"name": "fl ask", "version": "2.3.0", "ecosystem": "pypi"}, "name"),
        ({"name": "flask", "version": "not a version", "ecosystem": "pypi"}, "version"),
        ({"name": "@Bad/Scope!", "version": "1.0.0", "ecosystem": "npm"}, "name"),
        ({"name": "lodash", "version": "1.0", "ecosystem": "npm"}, "version"),
        ({"name": "log4j-core", "version": "2.14.1", "ecosystem": "maven"}, "name"),
        ({"name": "flask", "version": 2.3, "ecosystem": "pypi"}, "version"),
        ({"name": "flask", "version": "2.3.0"}, "ecosystem"),
        (
            {"name": "flask", "version": "2.3.0", "ecosystem": "pypi", "status": "approved"},
            "status",
        ),
        ({"name": "flask", "version": "2.3.0", "ecosystem": "pypi", "colour": "red"}, "colour"),
        ({"name": "x" * 300, "version": "2.3.0", "ecosystem": "pypi"}, "name"),
        ({"name": "flask\u0000", "version": "2.3.0", "ecosystem": "pypi"}, "name"),
        (
            {"name": "flask", "version": "2.3.0", "ecosystem": "pypi", "homepage": "not a url"},
            "homepage",
        ),
        (
            {"name": "flask", "version": "2.3.0", "ecosystem": "pypi", "homepage": "ftp://x.test/"},
            "homepage",
        ),
        (
            {"name": "flask", "version": "2.3.0", "ecosystem": "pypi", "description": 5},
            "description",
        ),
    ],
)
def test_invalid_submissions_are_400_and_store_nothing(
    client: Any, tokens: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/packages", json=body, headers=key(tokens["submitter"]))
    problem = assert_problem(response, 400)
    assert any(e["field"] == field for e in problem.get("errors", [])), problem
    assert client.get("/api/v1/packages").json()["total"] == 0


def test_malformed_json_wrong_type_and_big_bodies(client: Any, tokens: dict[str, str]) -> None:
    headers = key(tokens["submitter"]) | {"Content-Type": "application/json"}
    assert_problem(
        client.post("/api/v1/packages", content=b'{"name": "fl', headers=headers),
        400,
        "invalid_json",
    )
    assert_problem(client.post("/api/v1/packages", content=b"[1, 2]", headers=headers), 400)
    text_body = key(tokens["submitter"]) | {"Content-Type": "text/plain"}
    assert_problem(client.post("/api/v1/packages", content=b"name=flask", headers=text_body), 400)
    big = (
        b'{"name": "flask", "version": "2.3.0", "ecosystem": "pypi", "description": "'
        + b"a" * (1024 * 1024 + 10)
        + b'"}'
    )
    assert_problem(client.post("/api/v1/packages", content=big, headers=headers), 413)
    assert client.get("/api/v1/packages").json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 5000},
        {"offset": -1},
        {"limit": "ten"},
        {"ecosystem": "cargo"},
        {"status": "bogus"},
    ],
)
def test_bad_list_parameters_are_400(client: Any, params: dict[str, Any]) -> None:
    assert_problem(client.get("/api/v1/packages", params=params), 400)


def test_unknown_routes_and_methods_use_the_error_shape(client: Any) -> None:
    assert_problem(client.get("/api/v2/packages"), 404)
    assert_problem(client.get("/api/v1/nothing"), 404)
    assert_problem(client.delete("/api/v1/packages"), 405)


def test_detail_reflects_every_change_at_once(client: Any, tokens: dict[str, str]) -> None:
    # Reads may be served from a cache; any write anywhere must show on the next read.
    submit(client, tokens["submitter"], version="2.3.0")
    assert client.get("/api/v1/packages/flask").json()["version"] == "2.3.0"
    submit(client, tokens["submitter"], version="2.3.1")
    assert client.get("/api/v1/packages/flask").json()["version"] == "2.3.1"
    client.post(
        "/api/v1/reviews",
        json={"ecosystem": "pypi", "name": "flask", "version": "2.3.1", "decision": "approve"},
        headers=key(tokens["reviewer"]),
    )
    again = client.get("/api/v1/packages/flask").json()
    assert again["status"] == "approved" and again["approved_by"] == "rita"


def test_head_on_get_routes_answers_as_get_without_a_body(client: Any, tokens: dict[str, str]) -> None:
    assert submit(client, tokens["submitter"]).status_code == 201
    for path in (
        "/api/v1/packages",
        "/api/v1/packages/flask",
        "/api/v1/packages/flask?version=2.3.0",
        "/api/v1/security/scans/flask",
        "/api/v1/reviews?status=pending",
        "/api/v1/licenses/Apache-2.0",
        "/api/v1/openapi.json",
        "/healthz",
    ):
        got = client.get(path)
        head = client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-length"] == str(len(got.content)), path
        assert head.headers["content-type"] == got.headers["content-type"], path
    missing = client.head("/api/v1/packages/nothing-here")
    assert missing.status_code == 404 and missing.content == b""
    assert client.head("/api/v1/reviews", headers=key(tokens["reviewer"])).status_code == 200
    assert client.head("/api/v1/check").status_code == 405
