"""The ``foss`` command: one Typer app assembling each command group's module."""

from __future__ import annotations

import typer

from foss_registry.cli import (
    check,
    db,
    enrich,
    export,
    index,
    licenses,
    packages,
    popular,
    review,
    rules,
    scans,
    serve,
    token,
    vulndb,
)

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
app.command("enrich")(enrich.enrich)
app.add_typer(popular.app, name="popular")
# Client commands: they talk to a registry only through its REST API.
app.add_typer(packages.app, name="packages")
app.add_typer(review.app, name="review")
app.add_typer(scans.app, name="scans")
app.add_typer(licenses.app, name="licenses")
app.add_typer(rules.app, name="rules")
app.command("check")(check.check)
app.command("export")(export.export)
app.add_typer(index.app, name="index")


if __name__ == "__main__":  # pragma: no cover
    app()
