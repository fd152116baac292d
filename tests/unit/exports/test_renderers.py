"""The export renderers: a schema-valid CycloneDX 1.5 BOM, pip constraints, safe CSV."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packaging.requirements import Requirement

from foss_registry import ecosystems
from foss_registry.exports.service import (
    ApprovedRow,
    constraints_text,
    csv_text,
    cyclonedx_document,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def row(ecosystem: str, name: str, version: str, license: str | None = "MIT") -> ApprovedRow:
    eco = ecosystems.get(ecosystem)
    return ApprovedRow(
        ecosystem=ecosystem,
        name=name,
        normalized_name=eco.normalize_name(name),
        version=version,
        purl=eco.purl(name, version),
        license=license,
        approved_by="rita",
        approved_at=NOW,
    )


ROWS = [
    row("docker", "nginx", "1.25.3", None),
    row("maven", "org.apache.logging.log4j:log4j-core", "2.17.1", "Apache-2.0"),
    row("npm", "@babel/core", "7.24.0"),
    row("pypi", "Flask", "3.0.2", "BSD-3-Clause"),
    row("pypi", "Flask", "2.3.0", "BSD-3-Clause"),
    row("pypi", "zope.interface", "6.2", "ZPL-2.1"),
    row("pypi", "dual", "1.0", "MIT OR Apache-2.0"),
]


def test_cyclonedx_document_is_valid_cyclonedx_1_5() -> None:
    document = cyclonedx_document(ROWS, serial=uuid.uuid4(), timestamp=NOW)
    errors = JsonStrictValidator(SchemaVersion.V1_5).validate_str(json.dumps(document))
    assert errors is None, errors
    assert document["bomFormat"] == "CycloneDX"
    assert document["specVersion"] == "1.5"
    assert document["serialNumber"].startswith("urn:uuid:")


def test_cyclonedx_components_carry_purls_licenses_groups_and_types() -> None:
    document = cyclonedx_document(ROWS, serial=uuid.uuid4(), timestamp=NOW)
    by_purl = {c["purl"]: c for c in document["components"]}
    nginx = by_purl["pkg:docker/library/nginx@1.25.3"]
    assert nginx["type"] == "container" and "licenses" not in nginx
    log4j = by_purl["pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1"]
    assert (log4j["group"], log4j["name"], log4j["type"]) == (
        "org.apache.logging.log4j",
        "log4j-core",
        "library",
    )
    assert log4j["licenses"] == [{"expression": "Apache-2.0"}]
    babel = by_purl["pkg:npm/%40babel/core@7.24.0"]
    assert (babel["group"], babel["name"]) == ("@babel", "core")
    assert by_purl["pkg:pypi/flask@3.0.2"]["name"] == "Flask"
    assert by_purl["pkg:pypi/dual@1.0"]["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    assert len(document["components"]) == len(ROWS)


def test_constraints_hold_the_highest_approved_version_per_pypi_package() -> None:
    text = constraints_text(ROWS, timestamp=NOW)
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == ["Flask==3.0.2", "zope.interface==6.2", "dual==1.0"]
    for line in lines:
        # Each line is a requirement pip reads as an exact pin.
        assert str(Requirement(line).specifier).startswith("==")


def test_csv_has_a_header_and_one_line_per_version_with_formula_cells_neutralised() -> None:
    rows = [
        *ROWS,
        ApprovedRow(
            "pypi", "evil", "evil", "1.0", "pkg:pypi/evil@1.0", None, '=HYPERLINK("x")', None
        ),
    ]
    parsed = list(csv.DictReader(io.StringIO(csv_text(rows))))
    assert len(parsed) == len(rows)
    assert parsed[1]["name"] == "org.apache.logging.log4j:log4j-core"
    assert parsed[1]["approved_at"] == "2026-01-02T03:04:05Z"
    assert parsed[-1]["approved_by"] == '\'=HYPERLINK("x")'
