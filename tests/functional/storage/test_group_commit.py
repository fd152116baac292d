"""The SQLite group commit: writes queued together share one transaction, each in a savepoint.

These tests hold the writer thread inside a first write (waiting on an event)
while the next writes queue up, so that those are certain to run as one batch.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine

from foss_registry import storage
from foss_registry.db import GroupCommit, make_engine
from foss_registry.errors import ConflictError

#: Long enough never to be reached; a test that hangs is a failure, not a wait.
TIMEOUT = 60


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database of its own."""
    eng = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    storage.upgrade(eng)
    yield eng
    eng.dispose()


def insert_job(kind: str) -> Callable[[Connection], int]:
    """A write that queues one job of this kind and returns its id."""

    def write(conn: Connection) -> int:
        result = conn.exec_driver_sql(
            "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_after, "
            "created_at) VALUES (?, '{}', 'queued', 0, 5, '2024-01-01 00:00:00.000000', "
            "'2024-01-01 00:00:00.000000') RETURNING id",
            (kind,),
        )
        return int(result.scalar_one())

    return write


def stored_kinds(engine: Engine) -> list[str]:
    """The kinds of every job committed, read on a connection of its own."""
    raw = sqlite3.connect(str(engine.url.database))
    try:
        return [row[0] for row in raw.execute("SELECT kind FROM jobs ORDER BY id")]
    finally:
        raw.close()


class HeldWriter:
    """Keeps the writer thread busy in a first write until ``release``."""

    def __init__(self, writer: GroupCommit) -> None:
        self.entered = threading.Event()
        self.release_event = threading.Event()

        def hold(conn: Connection) -> str:
            self.entered.set()
            assert self.release_event.wait(TIMEOUT)
            return "held"

        self.future = writer.submit(hold)
        assert self.entered.wait(TIMEOUT)

    def release(self) -> None:
        self.release_event.set()
        assert self.future.result(TIMEOUT) == "held"


def test_a_failing_write_is_undone_alone_and_the_batch_commits(engine: Engine) -> None:
    writer = GroupCommit(engine)
    held = HeldWriter(writer)

    def conflicting(conn: Connection) -> int:
        insert_job("half-written")(conn)
        raise ConflictError("This one already exists.", code="already_exists")

    first = writer.submit(insert_job("first"))
    failing = writer.submit(conflicting)
    last = writer.submit(insert_job("last"))
    held.release()

    assert first.result(TIMEOUT) > 0
    assert last.result(TIMEOUT) > first.result(TIMEOUT)
    with pytest.raises(ConflictError):
        failing.result(TIMEOUT)
    assert stored_kinds(engine) == ["first", "last"]


def test_every_result_is_handed_out_only_after_its_commit(engine: Engine) -> None:
    writer = GroupCommit(engine)
    held = HeldWriter(writer)
    seen_committed: dict[str, bool] = {}
    checked = threading.Semaphore(0)

    def on_done(kind: str) -> Callable[[Future[Any]], None]:
        def check(_: Future[Any]) -> None:
            # Runs on the writer thread the moment the result is set.
            seen_committed[kind] = kind in stored_kinds(engine)
            checked.release()

        return check

    kinds = [f"job-{i}" for i in range(10)]
    futures = [writer.submit(insert_job(kind)) for kind in kinds]
    for kind, future in zip(kinds, futures, strict=True):
        future.add_done_callback(on_done(kind))
    held.release()

    for _ in kinds:
        assert checked.acquire(timeout=TIMEOUT)
    assert seen_committed == dict.fromkeys(kinds, True)


def test_when_the_commit_fails_every_write_of_the_batch_gets_the_error(engine: Engine) -> None:
    writer = GroupCommit(engine)
    held = HeldWriter(writer)

    def dangling_scan(conn: Connection) -> None:
        # A deferred foreign key is checked at COMMIT: this makes the commit fail.
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        conn.exec_driver_sql(
            "INSERT INTO scans (version_id, status, tools_used, findings, severity, "
            "\"trigger\", created_at) VALUES (999999, 'pending', '[]', '[]', '{}', 'test', "
            "'2024-01-01 00:00:00.000000')"
        )

    before = writer.submit(insert_job("before"))
    breaking = writer.submit(dangling_scan)
    after = writer.submit(insert_job("after"))
    held.release()

    for future in (before, breaking, after):
        with pytest.raises(Exception, match="FOREIGN KEY"):
            future.result(TIMEOUT)
    assert stored_kinds(engine) == []
    # The writer goes on with the next writes.
    assert writer.submit(insert_job("next")).result(TIMEOUT) > 0
    assert stored_kinds(engine) == ["next"]


def test_a_write_whose_caller_gave_up_never_runs(engine: Engine) -> None:
    writer = GroupCommit(engine)
    held = HeldWriter(writer)
    abandoned = writer.submit(insert_job("abandoned"))
    kept = writer.submit(insert_job("kept"))
    assert abandoned.cancel()
    held.release()

    assert kept.result(TIMEOUT) > 0
    assert stored_kinds(engine) == ["kept"]


def test_the_writer_thread_starts_again_after_it_stopped_when_idle(engine: Engine) -> None:
    writer = GroupCommit(engine, idle_seconds=0)
    for kind in ("one", "two", "three"):
        assert writer.submit(insert_job(kind)).result(TIMEOUT) > 0
    assert stored_kinds(engine) == ["one", "two", "three"]
