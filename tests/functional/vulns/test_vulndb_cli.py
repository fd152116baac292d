"""The `foss vulndb import` and `foss vulndb status` commands, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import yaml
from sqlalchemy import Engine

from foss_registry.db import read_connection, write_transaction
from foss_registry.intake.service import submit_package
from foss_registry.packages.records import iso
from foss_registry.security import service as security
from foss_registry.vulns import service as vulndb
from tests.functional.server.conftest import foss_command
from tests.functional.vulns.conftest import run_jobs


def foss(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy() | {"FOSS_DATABASE_URL": database_url}
    return subprocess.run(
        [*foss_command(), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_import_then_status(database_url: str, selected_data: list[Path]) -> None:
    empty = foss(database_url, "vulndb", "status")
    assert empty.returncode == 0 and "empty" in empty.stdout

    done = foss(database_url, "vulndb", "import", *map(str, selected_data), "--json")
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert (counts["read"], counts["new"], counts["invalid"], counts["rescans"]) == (13, 13, 0, 0)
    assert "GHSA-npm.zip: 4 records read, 4 new" in done.stderr
    # No progress bar when stderr is not a terminal: the summary lines alone.
    assert "━" not in done.stderr

    again = foss(database_url, "vulndb", "import", *map(str, selected_data), "--json")
    assert json.loads(again.stdout)["unchanged"] == 13

    status = foss(database_url, "vulndb", "status")
    assert status.returncode == 0
    assert "PYSEC" in status.stdout and "13 records" in status.stdout
    machine = json.loads(foss(database_url, "vulndb", "status", "--json").stdout)
    assert machine["records"] == 13


def test_bad_paths_and_bad_records(database_url: str, tmp_path: Path, picked_records: Path) -> None:
    missing = foss(database_url, "vulndb", "import", str(picked_records), str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "No OSV data at" in missing.stderr
    # Checked before anything is imported.
    assert "4 records" not in missing.stderr

    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "broken.json").write_text('{"id": "BROKEN-1", "modified": ')
    # The PyPA advisory-database layout: YAML records.
    record = json.loads((picked_records / "PYSEC-2023-62.json").read_text())
    (folder / "PYSEC-2023-62.yaml").write_text(yaml.safe_dump(record))
    partial = foss(database_url, "vulndb", "import", str(folder))
    assert partial.returncode == 1
    assert "broken.json" in partial.stderr and "1 new" in partial.stderr
    assert "1 invalid (skipped)" in partial.stderr


def test_import_while_versions_are_stored_queues_their_rescans(
    database_url: str, engine: Engine, picked_records: Path
) -> None:
    class Body:
        name, version, ecosystem = "flask", "2.3.1", "pypi"
        license = description = homepage = repository = justification = None

    with write_transaction(engine) as conn:
        submit_package(conn, Body(), "alice")
    run_jobs(engine)
    done = foss(database_url, "vulndb", "import", str(picked_records), "--json")
    assert json.loads(done.stdout)["rescans"] == 1
    assert "1 re-scans queued" in done.stderr
    worker = subprocess.run(
        [*foss_command(), "worker", "--once"],
        env=os.environ.copy() | {"FOSS_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0 and "ran 1 job" in worker.stderr
    with read_connection(engine) as conn:
        report = security.get_scan(conn, "flask")
    assert report.status == "failed"
    assert [h.trigger for h in report.history] == ["submission", "vulndb-import"]


def _submit(engine: Engine, name: str, version: str, ecosystem: str) -> None:
    class Body:
        license = description = homepage = repository = justification = None

    Body.name, Body.version, Body.ecosystem = name, version, ecosystem  # type: ignore[attr-defined]
    with write_transaction(engine) as conn:
        submit_package(conn, Body(), "alice")


def test_import_of_a_folder_of_zips_rescans_versions_scanned_before_their_data(
    database_url: str, engine: Engine, shared_data: Path, picked_records: Path, tmp_path: Path
) -> None:
    # Submitted before any npm or PyPI data: not_scanned, with that reason.
    _submit(engine, "express", "4.18.0", "npm")
    _submit(engine, "flask", "2.3.2", "pypi")
    run_jobs(engine)
    with read_connection(engine) as conn:
        assert security.get_scan(conn, "express").status == "not_scanned"

    # A folder of osv.dev export zips (the shared ones), beside a README that is not data.
    folder = tmp_path / "osv"
    folder.mkdir()
    for name in ("GHSA-npm.zip", "GHSA-PyPI.zip"):
        (folder / name).symlink_to(shared_data / "osv" / name)
    (folder / "README.md").write_text("# exports downloaded by hand\n")
    done = foss(database_url, "vulndb", "import", str(folder), "--json")
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    # Neither package is named by a record, yet both scans spoke of a database without data.
    assert (counts["read"], counts["new"], counts["rescans"]) == (6, 6, 2)
    assert run_jobs(engine) >= 1
    with read_connection(engine) as conn:
        express = security.get_scan(conn, "express")
        flask = security.get_scan(conn, "flask")
    assert express.status == "passed" and flask.status == "passed"
    assert express.database is not None
    assert express.database.updated_at == "2023-11-10T00:35:38Z"
    assert [h.trigger for h in express.history] == ["submission", "vulndb-import"]

    # Newer npm data naming other packages: express's result is confirmed against it, with
    # the new state, and not scanned again; flask, which a new record names, is re-scanned.
    newer = tmp_path / "newer"
    newer.mkdir()
    with zipfile.ZipFile(shared_data / "osv" / "MAL-npm.zip") as archive:
        # Modified 2025-01-14, about the npm package 000webhost-admin.
        (newer / "MAL-2024-11848.json").write_bytes(archive.read("MAL-2024-11848.json"))
    with zipfile.ZipFile(shared_data / "osv" / "PyPI-pypa.zip") as archive:
        # Flask before 2.3.2: names flask, so flask is scanned again.
        (newer / "PYSEC-2023-62.json").write_bytes(archive.read("PYSEC-2023-62.json"))
    later = foss(database_url, "vulndb", "import", str(newer), "--json")
    counts = json.loads(later.stdout)
    assert (counts["rescans"], counts["scans_confirmed"]) == (1, 1)
    assert "1 scans confirmed against the new data" in later.stderr
    run_jobs(engine)
    with read_connection(engine) as conn:
        express = security.get_scan(conn, "express")
        flask = security.get_scan(conn, "flask")
        states = vulndb.database_states(conn)
    assert express.status == "passed"
    assert express.database is not None and flask.database is not None
    assert express.database.updated_at == iso(states["npm"].newest_modified)
    assert express.database.updated_at == "2025-01-14T00:44:06Z"
    assert len(express.history) == 2
    assert flask.database.updated_at == iso(states["pypi"].newest_modified)
    assert [h.trigger for h in flask.history][-1] == "vulndb-import"


def test_a_path_with_nothing_to_import_is_refused(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# no records here\n")
    refused = foss(database_url, "vulndb", "import", str(tmp_path))
    assert refused.returncode == 2
    assert "Nothing to import in the folder" in refused.stderr
    assert "records read" not in refused.stderr
