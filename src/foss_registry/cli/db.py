"""``foss db``: schema migrations and backups of the server's database."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from foss_registry.cli.common import EXIT_SERVER, engine, err, fail, settings

app = typer.Typer(help="Manage the registry database (server side).", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Migrate the database to the newest schema (safe to run repeatedly)."""
    from foss_registry import storage

    eng = engine()
    before = storage.current_revision(eng)
    storage.upgrade(eng)
    after = storage.current_revision(eng)
    if before == after:
        err.print(f"database already at revision {after}")
    else:
        err.print(f"database upgraded from {before or 'empty'} to {after}")


@app.command()
def current() -> None:
    """Print the database's schema revision and whether it is the newest."""
    from foss_registry import storage

    eng = engine()
    rev = storage.current_revision(eng)
    head = storage.head_revision()
    typer.echo(f"{rev or 'empty'} ({'current' if rev == head else f'newest is {head}'})")


@app.command()
def optimize() -> None:
    """Refresh the query planner's statistics (after bulk loads; safe while serving)."""
    from foss_registry import storage

    for step in storage.optimize(engine()):
        err.print(step)


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="File to write the copy to.")],
    force: bool = typer.Option(False, "--force", help="Replace PATH if it exists."),
) -> None:
    """Copy the SQLite database to PATH while the server runs (SQLite's online backup API).

    The copy is one consistent snapshot: writers are not stopped and nothing they
    commit meanwhile is half-copied. For PostgreSQL use `pg_dump` (see README).
    """
    from sqlalchemy.engine import make_url

    cfg = settings()
    if not cfg.is_sqlite:
        raise fail(
            "`foss db backup` copies a SQLite database; for PostgreSQL use "
            "`pg_dump --format=custom` (see README, Running in production)"
        )
    source = make_url(cfg.database_url).database
    if not source or source == ":memory:" or not Path(source).exists():
        raise fail(f"no SQLite database at {source!r}")
    target = path.resolve()
    if target == Path(source).resolve():
        raise fail("the backup must go to another file than the database itself")
    if target.exists() and not force:
        raise fail(f"{target} exists; pass --force to replace it")
    if not target.parent.is_dir():
        # A mistyped folder would otherwise be created, and the copy go where nobody looks.
        raise fail(f"no folder {target.parent}; create it first (mkdir -p {target.parent})")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        # One step (all pages) inside one read transaction: in WAL mode readers do
        # not block the server's writers, and the copy is a single snapshot.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        rows = {
            table: dst.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for (table,) in dst.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name IN "
                "('package_versions', 'scans', 'api_tokens', 'jobs')"
            )
        }
    finally:
        dst.close()
        src.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise fail(f"the copy failed its integrity check: {check}", EXIT_SERVER)
    os.replace(partial, target)
    summary = ", ".join(f"{count} {table}" for table, count in sorted(rows.items()))
    err.print(f"backed up {source} to {target} ({summary})")
