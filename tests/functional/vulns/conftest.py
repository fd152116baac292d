"""Fixtures for the vulnerability database and scans: real OSV records, the job worker.

Importing all 34,000 shared records per test is too slow, so most tests import
the three small GHSA zips and a folder of records picked from the other shared
zips (written to a temporary folder, never into the repository).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from foss_registry.config import get_settings
from foss_registry.scans.service import IMPORT_RESCANS
from foss_registry.vulns import service
from foss_registry.vulns.service import ImportReport
from foss_registry.wiring import new_worker

#: Records picked from the big shared zips: (zip, id).
PICKED = [
    ("PyPI-pypa.zip", "PYSEC-2023-62"),  # flask < 2.2.5, 2.3.0 to < 2.3.2
    ("MAL-PyPI.zip", "MAL-2022-7436"),  # requeests: a typosquat of requests
    ("MAL-npm.zip", "MAL-2021-1"),  # cxp-jquery: dependency confusion
    ("MAL-Maven.zip", "MAL-2025-2552"),  # io.github.leetcrunch:scribejava-core
]
GHSA_ZIPS = ["GHSA-PyPI.zip", "GHSA-npm.zip", "GHSA-Maven.zip"]


def osv_dir(shared_data: Path) -> Path:
    """The shared OSV zips."""
    return shared_data / "osv"


@pytest.fixture(scope="session")
def picked_records(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the picked records as ``<id>.json`` files, exactly as in the zips."""
    folder = tmp_path_factory.mktemp("picked-osv")
    for zip_name, record_id in PICKED:
        with zipfile.ZipFile(osv_dir(shared_data) / zip_name) as archive:
            (folder / f"{record_id}.json").write_bytes(archive.read(f"{record_id}.json"))
    return folder


@pytest.fixture
def selected_data(shared_data: Path, picked_records: Path) -> list[Path]:
    """The small GHSA zips and the folder of picked records."""
    return [osv_dir(shared_data) / name for name in GHSA_ZIPS] + [picked_records]


def import_all(engine: Engine, paths: list[Path], **options: Any) -> ImportReport:
    """Import several paths like ``foss vulndb import`` and return the summed report."""
    total = ImportReport()
    for path in paths:
        total.merge(service.import_path(engine, path, rescans=IMPORT_RESCANS, **options))
    return total


def run_jobs(engine: Engine) -> int:
    """Run every queued job, as the worker inside `foss serve` would."""
    return new_worker(engine).run_until_idle()


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Job handlers read the worker's FOSS_ settings: re-read them for every test."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
