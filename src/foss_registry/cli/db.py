"""``foss db``: schema migrations and backups of the server's database."""

from __future__ import annotations

import typer

from foss_registry import storage
from foss_registry.cli.common import engine, err

app = typer.Typer(help="Manage the registry database (server side).", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Migrate the database to the newest schema (safe to run repeatedly)."""
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
    eng = engine()
    rev = storage.current_revision(eng)
    head = storage.head_revision()
    typer.echo(f"{rev or 'empty'} ({'current' if rev == head else f'newest is {head}'})")
