"""``GET /api/v1/export``: the approved catalogue as CycloneDX 1.5, pip constraints and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from sqlalchemy import Engine

from tests.functional.catalogue import add_version, standard_catalogue


def test_cyclonedx_lists_every_approved_version_and_validates(client: Any, engine: Engine) -> None:
    standard_catalogue(engine)
    response = client.get("/api/v1/export", params={"format": "cyclonedx"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.cyclonedx+json")
    assert "attachment" in response.headers["content-disposition"]
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(response.text) is None
    bom = response.json()
    assert bom["specVersion"] == "1.5"
    purls = sorted(c["purl"] for c in bom["components"])
    assert purls == [
        "pkg:docker/library/nginx@1.25.3",
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1",
        "pkg:npm/%40babel/core@7.24.0",
        "pkg:pypi/flask@2.3.0",
        "pkg:pypi/requests@2.31.0",
        "pkg:pypi/urllib3@2.2.1",
    ]
    nginx = next(c for c in bom["components"] if c["purl"].startswith("pkg:docker"))
    assert nginx["type"] == "container"
    requests = next(c for c in bom["components"] if c["name"] == "requests")
    assert requests["licenses"] == [{"expression": "Apache-2.0"}]
    # Pending and rejected versions are not in the catalogue.
    assert "pkg:pypi/flask@3.0.0" not in purls and "pkg:pypi/urllib3@1.26.0" not in purls


def test_cyclonedx_is_the_default_and_serial_numbers_differ(client: Any) -> None:
    first = client.get("/api/v1/export").json()
    second = client.get("/api/v1/export").json()
    assert first["bomFormat"] == "CycloneDX" and first["components"] == []
    assert first["serialNumber"] != second["serialNumber"]


def test_constraints_pin_the_highest_approved_pypi_version(client: Any, engine: Engine) -> None:
    for version in ("2.9.0", "2.10.0"):
        add_version(engine, "pypi", "Django", version)
    add_version(engine, "pypi", "Django", "3.0.0", "pending")
    add_version(engine, "pypi", "requests", "2.31.0")
    add_version(engine, "npm", "lodash", "4.17.21")
    response = client.get("/api/v1/export", params={"format": "constraints"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    pins = [line for line in response.text.splitlines() if line and not line.startswith("#")]
    assert pins == ["Django==2.10.0", "requests==2.31.0"]


def test_constraints_for_another_ecosystem_is_a_400(client: Any) -> None:
    response = client.get("/api/v1/export", params={"format": "constraints", "ecosystem": "npm"})
    assert response.status_code == 400
    assert "pypi" in response.json()["detail"]


def test_csv_has_one_line_per_approved_version(client: Any, engine: Engine) -> None:
    standard_catalogue(engine)
    response = client.get("/api/v1/export", params={"format": "csv", "ecosystem": "pypi"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {(r["name"], r["version"]) for r in rows} == {
        ("requests", "2.31.0"),
        ("Flask", "2.3.0"),
        ("urllib3", "2.2.1"),
    }
    assert all(r["approved_by"] == "rita" and r["approved_at"].endswith("Z") for r in rows)


def test_unknown_format_or_ecosystem_is_a_400_naming_the_choices(client: Any) -> None:
    bad = client.get("/api/v1/export", params={"format": "spdx"})
    assert bad.status_code == 400
    assert "cyclonedx, constraints, csv" in bad.json()["detail"]
    assert client.get("/api/v1/export", params={"ecosystem": "cargo"}).status_code == 400
