"""`foss vulndb sync` against a local HTTP server that serves the shared zips like osv.dev.

The server lays the small GHSA zips out as ``<Ecosystem>/all.zip``; it can also
fail its first answers (HTTP 500) to show the retries.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from foss_registry.config import Settings
from foss_registry.db import read_connection
from foss_registry.scans.service import IMPORT_RESCANS
from foss_registry.vulns import service
from foss_registry.vulns.sync import DownloadError, sync
from tests.functional.server.conftest import foss_command, free_port

LAYOUT = {"PyPI": "GHSA-PyPI.zip", "npm": "GHSA-npm.zip", "Maven": "GHSA-Maven.zip"}


@dataclass
class ExportServer:
    """A local stand-in for the OSV export bucket."""

    url: str
    #: Requests still to answer with HTTP 500 before serving files.
    failures: list[int] = field(default_factory=lambda: [0])
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def export_server(shared_data: Path, tmp_path: Path) -> Iterator[ExportServer]:
    root = tmp_path / "exports"
    for ecosystem, zip_name in LAYOUT.items():
        (root / ecosystem).mkdir(parents=True)
        (root / ecosystem / "all.zip").symlink_to(shared_data / "osv" / zip_name)
    state = ExportServer(url="")

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            state.requests.append(self.path)
            if state.failures[0] > 0:
                state.failures[0] -= 1
                self.send_error(500, "temporarily broken")
                return
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/osv"
    # Serve <root> under /osv, as a bucket path would.
    (root / "osv").symlink_to(root, target_is_directory=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def settings_for(url: str, **values: Any) -> Settings:
    return Settings(osv_url=url, osv_timeout_seconds=5, **values)


def test_sync_downloads_each_ecosystem_and_imports_it(
    engine: Engine, export_server: ExportServer
) -> None:
    results = sync(engine, settings_for(export_server.url), rescans=IMPORT_RESCANS, backoff=0)
    assert [(r.ecosystem, r.report.new) for r in results] == [("PyPI", 2), ("npm", 4), ("Maven", 3)]
    assert sorted(export_server.requests) == [
        "/osv/Maven/all.zip",
        "/osv/PyPI/all.zip",
        "/osv/npm/all.zip",
    ]
    with read_connection(engine) as conn:
        assert service.status(conn).records == 9
    # Syncing again changes nothing.
    again = sync(engine, settings_for(export_server.url), rescans=IMPORT_RESCANS, backoff=0)
    assert sum(r.report.unchanged for r in again) == 9
    assert sum(r.report.new + r.report.updated for r in again) == 0


def test_sync_retries_server_errors(engine: Engine, export_server: ExportServer) -> None:
    export_server.failures[0] = 2
    results = sync(
        engine, settings_for(export_server.url, osv_retries=2), rescans=IMPORT_RESCANS, ecosystems=["npm"], backoff=0
    )
    assert results[0].report.new == 4
    assert export_server.requests == ["/osv/npm/all.zip"] * 3


def test_sync_gives_up_after_the_retries_and_imports_nothing(
    engine: Engine, export_server: ExportServer
) -> None:
    export_server.failures[0] = 10
    with pytest.raises(DownloadError) as caught:
        sync(engine, settings_for(export_server.url, osv_retries=1), rescans=IMPORT_RESCANS, backoff=0)
    assert "after 2 attempts" in caught.value.detail and "HTTP 500" in caught.value.detail
    with read_connection(engine) as conn:
        assert service.status(conn).records == 0


def test_sync_offline_and_wrong_paths_are_clear_errors(
    engine: Engine, export_server: ExportServer
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/osv"
    with pytest.raises(DownloadError) as offline:
        sync(engine, settings_for(closed, osv_retries=1), rescans=IMPORT_RESCANS, backoff=0)
    assert "cannot connect" in offline.value.detail and "offline" in offline.value.detail
    with pytest.raises(DownloadError) as missing:
        sync(engine, settings_for(export_server.url), rescans=IMPORT_RESCANS, ecosystems=["crates.io"], backoff=0)
    assert "HTTP 404" in missing.value.detail and "FOSS_OSV_URL" in missing.value.detail


def foss(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*foss_command(), *args],
        env=os.environ.copy() | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sync_command(database_url: str, export_server: ExportServer) -> None:
    env = {"FOSS_DATABASE_URL": database_url, "FOSS_OSV_URL": export_server.url}
    unset = foss({"FOSS_DATABASE_URL": database_url, "FOSS_OSV_URL": ""}, "vulndb", "sync")
    assert unset.returncode == 2
    assert "set FOSS_OSV_URL" in unset.stderr and len(unset.stderr.strip().splitlines()) == 1

    export_server.failures[0] = 1
    done = foss(env | {"FOSS_OSV_RETRIES": "1"}, "vulndb", "sync", "-e", "PyPI", "-e", "npm")
    assert done.returncode == 0, done.stderr
    assert "PyPI" in done.stderr and "2 new" in done.stderr
    assert "npm" in done.stderr and "4 new" in done.stderr

    closed = f"http://127.0.0.1:{free_port()}"
    offline = foss(env | {"FOSS_OSV_URL": closed, "FOSS_OSV_RETRIES": "0"}, "vulndb", "sync")
    assert offline.returncode == 3
    assert "cannot connect" in offline.stderr and "Traceback" not in offline.stderr
