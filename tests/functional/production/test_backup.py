"""`foss db backup`: a consistent online copy of a SQLite database while it is written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from pathlib import Path

from sqlalchemy import func, select

from foss_registry import storage
from foss_registry.db import make_engine, write_transaction
from foss_registry.intake.service import submit_package
from foss_registry.packages.models import package_versions
from foss_registry.scans.models import scans
from tests.functional.server.conftest import foss_command


class Body:
    """A submission with only the required fields."""

    def __init__(self, name: str) -> None:
        self.name, self.version, self.ecosystem = name, "1.0.0", "pypi"
        self.license = self.description = self.homepage = self.repository = None
        self.justification = None


def test_backup_copies_a_database_being_written_consistently(tmp_path: Path) -> None:
    source = tmp_path / "live.db"
    url = f"sqlite:///{source}"
    engine = make_engine(url)
    storage.upgrade(engine)
    for i in range(200):
        with write_transaction(engine) as conn:
            submit_package(conn, Body(f"before-{i}"), "seed")

    stop = threading.Event()
    written = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            with write_transaction(engine) as conn:
                submit_package(conn, Body(f"during-{i}"), "writer")
            written.append(i)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        (tmp_path / "backups").mkdir()
        target = tmp_path / "backups" / "copy.db"
        env = os.environ | {"FOSS_DATABASE_URL": url}
        done = subprocess.run(
            [*foss_command(), "db", "backup", str(target)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "backed up" in done.stderr
        again = subprocess.run(
            [*foss_command(), "db", "backup", str(target)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 2 and "--force" in again.stderr
    finally:
        stop.set()
        thread.join()
    assert written, "the writer wrote nothing while the backup ran"

    # The copy is one self-contained file that opens, passes its check and is current.
    assert not Path(f"{target}-wal").exists()
    raw = sqlite3.connect(target)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
    copy = make_engine(f"sqlite:///{target}")
    assert storage.is_current(copy)
    with copy.connect() as conn:
        versions = conn.execute(select(func.count()).select_from(package_versions)).scalar_one()
        with_scans = conn.execute(
            select(func.count(func.distinct(scans.c.version_id)))
        ).scalar_one()
        seeded = conn.execute(
            select(func.count()).where(package_versions.c.name.like("before-%"))
        ).scalar_one()
    # Everything committed before it started, and each copied version whole (with its scan).
    assert seeded == 200
    assert versions == with_scans and versions >= 200
    copy.dispose()
    engine.dispose()


def test_backup_of_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    env = os.environ | {"FOSS_DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/none"}
    done = subprocess.run(
        [*foss_command(), "db", "backup", str(tmp_path / "x.db")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "pg_dump" in done.stderr


def test_backup_into_a_folder_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "live.db"
    engine = make_engine(f"sqlite:///{source}")
    storage.upgrade(engine)
    engine.dispose()
    target = tmp_path / "nonexistent" / "dir" / "x.db"
    done = subprocess.run(
        [*foss_command(), "db", "backup", str(target)],
        env=os.environ | {"FOSS_DATABASE_URL": f"sqlite:///{source}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: no folder {target.parent}; create it first (mkdir -p {target.parent})"
    )
    # Nothing was created on the way.
    assert not (tmp_path / "nonexistent").exists()
