"""The ``foss`` command: one Typer app assembling each command group's module."""

from __future__ import annotations

import typer

from foss_registry.cli import db, serve, token, vulndb

app = typer.Typer(
    name="foss",
    help="FOSS Registry: submit, scan, review and check open-source package versions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.command("worker")(serve.worker)
app.add_typer(db.app, name="db")
app.add_typer(token.app, name="token")
app.add_typer(vulndb.app, name="vulndb")


if __name__ == "__main__":  # pragma: no cover
    app()
