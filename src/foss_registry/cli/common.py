"""Helpers every command shares: settings, the engine, and one-line errors with exit codes.

Client commands must start fast, so the server side (settings, SQLAlchemy, the
services) is imported by the functions and commands that use it, not at the
top of a command module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from foss_registry.errors import DomainError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from foss_registry.config import Settings

#: Human messages go to stderr so stdout stays clean for values (`T=$(foss token create ...)`).
err = Console(stderr=True, soft_wrap=True)
#: Tables of the server-side commands: as wide as the terminal, or 200 columns in a pipe
#: (Rich's default of 80 there cut columns short).
out = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200)

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_SERVER = 3


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print a one-line error to stderr and return the Exit to raise."""
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def settings() -> Settings:
    """Return the server settings, turning a bad environment into a clear error."""
    from foss_registry.config import get_settings

    try:
        return get_settings()
    except Exception as exc:  # pydantic's ValidationError lists every bad variable
        raise fail(f"invalid configuration: {exc}".replace("\n", " ")) from None


def engine() -> Engine:
    """Return an engine for the configured database."""
    from foss_registry.db import make_engine

    return make_engine(settings().database_url, pool_size=2)


def ready_engine(announce: Callable[[str], None] = err.print) -> Engine:
    """The engine, with the schema created on an empty database and refused when older."""
    from foss_registry import storage

    eng = engine()
    current = storage.current_revision(eng)
    if current is None:
        announce("empty database: creating the schema")
        storage.upgrade(eng)
    elif current != storage.head_revision():
        raise fail(
            f"the database schema is at {current}, this version needs "
            f"{storage.head_revision()}; run `foss db upgrade` first"
        )
    return eng


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn a domain error into its one-line message and exit code 2."""
    try:
        yield
    except DomainError as exc:
        raise fail(exc.detail) from None


def is_tty() -> bool:
    """True when stdout is a terminal (colours and progress bars only then)."""
    return sys.stdout.isatty()
