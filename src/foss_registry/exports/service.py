"""The approved catalogue as a CycloneDX 1.5 BOM, a pip constraints file, or CSV.

The renderers (:func:`cyclonedx_document`, :func:`constraints_text`,
:func:`csv_text`) are pure: they take rows and return the document. The
functions without a suffix read the approved versions and call them.

* **CycloneDX** lists every approved version as a component (``library``, or
  ``container`` for Docker images) with its purl as ``bom-ref`` and its license
  as an SPDX expression.
* **Constraints** hold the highest approved version of each PyPI package, one
  ``name==version`` line each (pip has no constraints format for the other
  ecosystems).
* **CSV** has one line per approved version; cells that a spreadsheet would
  run as a formula are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from packageurl import PackageURL
from sqlalchemy import Connection, select

from foss_registry import __version__, ecosystems
from foss_registry.db import utcnow
from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.exports import FORMATS
from foss_registry.packages.models import package_versions as pv
from foss_registry.packages.service import iso

#: Media type of each format.
MEDIA_TYPES = {
    "cyclonedx": "application/vnd.cyclonedx+json",
    "constraints": "text/plain",
    "csv": "text/csv",
}
#: A file name for each format, for ``Content-Disposition`` and ``foss export``.
FILE_NAMES = {
    "cyclonedx": "approved.cdx.json",
    "constraints": "constraints.txt",
    "csv": "approved.csv",
}
CSV_COLUMNS = (
    "ecosystem",
    "name",
    "version",
    "license",
    "purl",
    "approved_by",
    "approved_at",
)


@dataclass(frozen=True)
class ApprovedRow:
    """One approved package version, as the exports see it."""

    ecosystem: str
    name: str
    normalized_name: str
    version: str
    purl: str
    license: str | None
    approved_by: str | None
    approved_at: datetime | None


def validate_format(value: str) -> str:
    """Return the export format lower-cased, or raise InvalidInputError naming the choices."""
    fmt = value.strip().lower()
    if fmt not in FORMATS:
        raise InvalidInputError(
            f"Unknown export format {value!r}; use one of: {', '.join(FORMATS)}.",
            code="invalid_format",
            errors=[FieldError("format", f"must be one of {', '.join(FORMATS)}")],
        )
    return fmt


def approved_rows(conn: Connection, ecosystem: str | None = None) -> list[ApprovedRow]:
    """Return the approved versions, by ecosystem and name, highest version first."""
    query = select(
        pv.c.ecosystem,
        pv.c.name,
        pv.c.normalized_name,
        pv.c.version,
        pv.c.purl,
        pv.c.license,
        pv.c.approved_by,
        pv.c.approved_at,
        pv.c.sort_token,
        pv.c.id,
    ).where(pv.c.status == "approved")
    if ecosystem is not None:
        try:
            query = query.where(pv.c.ecosystem == ecosystems.get(ecosystem).name)
        except InvalidInputError as exc:
            exc.errors = exc.errors or [FieldError("ecosystem", exc.detail)]
            raise
    rows = list(conn.execute(query).all())
    # Sorted here, not in SQL: the order tokens compare by bytes, which a
    # PostgreSQL collation would not respect.
    rows.sort(key=lambda r: (r.ecosystem, r.normalized_name, r.sort_token, r.id))
    ordered: list[Any] = []
    for _, group in _groups(rows):
        ordered.extend(reversed(group))
    return [
        ApprovedRow(
            r.ecosystem,
            r.name,
            r.normalized_name,
            r.version,
            r.purl,
            r.license,
            r.approved_by,
            r.approved_at,
        )
        for r in ordered
    ]


def _groups(rows: Sequence[Any]) -> Iterable[tuple[tuple[str, str], list[Any]]]:
    """Yield consecutive rows of one package (rows sorted by ecosystem and name)."""
    current: list[Any] = []
    key: tuple[str, str] | None = None
    for row in rows:
        row_key = (row.ecosystem, row.normalized_name)
        if row_key != key and current:
            assert key is not None
            yield key, current
            current = []
        key = row_key
        current.append(row)
    if current and key is not None:
        yield key, current


def _component(row: ApprovedRow) -> dict[str, Any]:
    purl = PackageURL.from_string(row.purl)
    component: dict[str, Any] = {
        "type": "container" if row.ecosystem == "docker" else "library",
        "bom-ref": row.purl,
    }
    if row.ecosystem == "pypi":
        component["name"] = row.name
    else:
        # Maven groupId, npm scope, Docker namespace: CycloneDX calls it the group.
        if purl.namespace:
            component["group"] = purl.namespace
        component["name"] = purl.name
    component["version"] = row.version
    component["purl"] = row.purl
    if row.license:
        component["licenses"] = [{"expression": row.license}]
    return component


def cyclonedx_document(
    rows: Iterable[ApprovedRow], *, serial: uuid.UUID, timestamp: datetime
) -> dict[str, Any]:
    """Return a CycloneDX 1.5 JSON BOM listing the approved versions as components."""
    components: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        # bom-ref must be unique; two stored spellings of one purl keep the first.
        if row.purl in seen:
            continue
        seen.add(row.purl)
        components.append(_component(row))
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial.urn,
        "version": 1,
        "metadata": {
            "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {
                "components": [
                    {"type": "application", "name": "foss-registry", "version": __version__}
                ]
            },
            "component": {
                "type": "application",
                "bom-ref": "foss-registry-approved-catalogue",
                "name": "approved catalogue",
                "description": "Package versions approved in this FOSS Registry.",
            },
        },
        "components": components,
    }


def constraints_text(rows: Iterable[ApprovedRow], *, timestamp: datetime) -> str:
    """Return a pip constraints file: the highest approved version of each PyPI package.

    ``rows`` must list each package's versions highest first (as
    :func:`approved_rows` does); the first one seen for a name wins.
    """
    lines = [
        "# Approved PyPI packages exported from FOSS Registry",
        f"# generated {timestamp.strftime('%Y-%m-%dT%H:%M:%SZ')}; "
        "use: pip install -c constraints.txt ...",
    ]
    seen: set[str] = set()
    for row in rows:
        if row.ecosystem != "pypi" or row.normalized_name in seen:
            continue
        seen.add(row.normalized_name)
        lines.append(f"{row.name}=={row.version}")
    return "\n".join(lines) + "\n"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | None) -> str:
    if value is None:
        return ""
    # A leading = + - @ makes spreadsheets evaluate the cell (CSV injection).
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_text(rows: Iterable[ApprovedRow]) -> str:
    """Return the approved versions as CSV with a header line (:data:`CSV_COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.ecosystem,
                _cell(row.name),
                _cell(row.version),
                _cell(row.license),
                row.purl,
                _cell(row.approved_by),
                iso(row.approved_at) or "",
            ]
        )
    return buffer.getvalue()


def export(conn: Connection, fmt: str, *, ecosystem: str | None = None) -> str | dict[str, Any]:
    """Return the export in a format: a dict for CycloneDX, text for the others."""
    fmt = validate_format(fmt)
    if fmt == "constraints":
        if ecosystem is not None and ecosystems.get(ecosystem).name != "pypi":
            raise InvalidInputError(
                "A constraints file exists only for pypi; use format=cyclonedx or csv "
                "for other ecosystems.",
                code="invalid_format",
                errors=[FieldError("ecosystem", "constraints are for pypi only")],
            )
        return constraints_text(approved_rows(conn, "pypi"), timestamp=utcnow())
    rows = approved_rows(conn, ecosystem)
    if fmt == "csv":
        return csv_text(rows)
    return cyclonedx_document(rows, serial=uuid.uuid4(), timestamp=utcnow())
