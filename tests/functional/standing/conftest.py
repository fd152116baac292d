"""Fixtures for standing decisions: PyPI advisories from the shared OSV data, and helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.functional.conftest import key
from tests.functional.vulns.conftest import fresh_settings as fresh_settings
from tests.functional.vulns.conftest import import_all, osv_dir
from tests.functional.vulns.conftest import picked_records as picked_records


@pytest.fixture
def pypi_advisories(engine: Engine, shared_data: Path, picked_records: Path) -> None:
    """The GHSA PyPI advisories and PYSEC-2023-62 (flask 2.3.0 to before 2.3.2) imported."""
    import_all(engine, [osv_dir(shared_data) / "GHSA-PyPI.zip", picked_records])


def created(response: Any) -> dict[str, Any]:
    """The JSON of a 201 answer."""
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def package(client: Any, name: str, version: str, ecosystem: str = "pypi") -> dict[str, Any]:
    """A version's record."""
    response = client.get(
        f"/api/v1/packages/{name}", params={"version": version, "ecosystem": ecosystem}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def scan(client: Any, name: str, version: str) -> dict[str, Any]:
    """A version's newest scan report."""
    response = client.get(f"/api/v1/security/scans/{name}", params={"version": version})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


__all__ = ["created", "key", "package", "scan"]
