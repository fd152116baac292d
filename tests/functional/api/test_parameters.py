"""Every missing or bad query parameter of every route is named in ``errors[]``.

The routes and their parameters are read from the app's own OpenAPI document, so a
route added later is covered too.
"""

from __future__ import annotations

from typing import Any

from tests.functional.conftest import key

#: Parameters checked against a list of words by the handler, not by their schema.
WORDS = {"status", "ecosystem", "category", "format"}
#: A valid value for each required parameter.
VALID = {"outbound": "MIT", "expression": "Apache-2.0"}


def _query_operations(client: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    document = client.get("/api/v1/openapi.json").json()
    operations = []
    for path, item in document["paths"].items():
        parameters = [p for p in item.get("get", {}).get("parameters", []) if p["in"] == "query"]
        if parameters:
            concrete = path.replace("{name}", "flask").replace("{license_id}", "MIT")
            operations.append((concrete, parameters))
    return operations


def _named(response: Any) -> set[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == 400
    return {error["field"] for error in body.get("errors", [])}


def test_every_missing_required_parameter_is_named(client: Any) -> None:
    answer = client.get("/api/v1/licenses/compatibility", params={"outbound": "MIT"})
    assert _named(answer) == {"expression"}
    assert "expression" in answer.json()["detail"]
    for path, parameters in _query_operations(client):
        required = {p["name"] for p in parameters if p.get("required")}
        if required:
            assert _named(client.get(path)) == required, path
            for name in required:
                others = {n: VALID[n] for n in required - {name}}
                assert _named(client.get(path, params=others)) == {name}, (path, name)


def test_every_bad_parameter_is_named(client: Any, tokens: dict[str, str]) -> None:
    checked = 0
    for path, parameters in _query_operations(client):
        base = {p["name"]: VALID[p["name"]] for p in parameters if p.get("required")}
        for parameter in parameters:
            name, schema = parameter["name"], parameter["schema"]
            bad_values = []
            if schema.get("type") == "integer":
                bad_values += ["abc", str(int(schema.get("minimum", 0)) - 1)]
                if "maximum" in schema:
                    bad_values.append(str(int(schema["maximum"]) + 1))
            if "maxLength" in schema:
                bad_values.append("x" * (schema["maxLength"] + 1))
            if name in WORDS:
                bad_values.append("no-such-word")
            for value in bad_values:
                answer = client.get(
                    path, params=base | {name: value}, headers=key(tokens["admin"])
                )
                assert _named(answer) == {name}, (path, name, value, answer.text)
                checked += 1
    assert checked > 30
    # Several bad ones at once: each is named.
    both = client.get("/api/v1/packages", params={"limit": "abc", "offset": "-1"})
    assert _named(both) == {"limit", "offset"}
