"""``foss token``: create, list, revoke and generate API tokens (server side, no key needed)."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.table import Table

from foss_registry.cli.common import domain_errors, engine, err, settings
from foss_registry.cli.output import print_json, stdout_console, text

app = typer.Typer(help="Manage API tokens directly in the server's database.", no_args_is_help=True)


@app.command()
def create(
    name: str = typer.Option(..., "--name", help="Who or what uses the token (unique)."),
    role: str = typer.Option("submitter", "--role", help="submitter, reviewer or admin."),
    expires_in_days: int | None = typer.Option(
        None, "--expires-in-days", min=1, help="Expire after this many days."
    ),
) -> None:
    """Create a token and print it once, alone on stdout (`T=$(foss token create ...)`)."""
    from foss_registry.auth import service as auth
    from foss_registry.db import utcnow, write_transaction

    with domain_errors(), write_transaction(engine()) as conn:
        expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        secret, info = auth.create_token(conn, name=name, role=role, expires_at=expires)
    typer.echo(secret)
    err.print(
        f"created {info.role} token {info.name!r} (prefix {info.prefix}); "
        "it is shown only this once."
    )


@app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print the tokens as JSON."),
) -> None:
    """List tokens, stored and static (FOSS_API_TOKENS): name, role, prefix, dates and
    revocation; never a secret."""
    import msgspec

    from foss_registry.auth import service as auth
    from foss_registry.db import write_transaction

    with domain_errors():
        static = auth.static_token_rows(auth.parse_static_tokens(settings().api_tokens))
    with write_transaction(engine()) as conn:
        stored = auth.list_tokens(conn)
    rows = [msgspec.structs.asdict(info) | {"static": False} for info in stored] + static
    if as_json:
        print_json(rows)
        return
    table = Table(
        "id", "name", "role", "kind", "prefix", "created", "expires", "last used", "revoked"
    )
    for r in rows:
        table.add_row(
            text(r["id"]),
            text(r["name"]),
            text(r["role"]),
            text("static" if r["static"] else "stored"),
            text(r["prefix"]),
            text(r["created_at"]),
            text("" if r["static"] else r["expires_at"] or "never"),
            text("" if r["static"] else r["last_used_at"] or "never"),
            text(r["revoked_at"]),
        )
    stdout_console().print(table)


@app.command()
def revoke(name_or_id: str = typer.Argument(..., help="Token name or numeric id.")) -> None:
    """Revoke a token; it stops working on the next request."""
    from foss_registry.auth import service as auth
    from foss_registry.db import write_transaction

    with domain_errors(), write_transaction(engine()) as conn:
        info = auth.revoke_token(conn, name_or_id)
    err.print(f"revoked token {info.name!r} (id {info.id})")


@app.command()
def generate() -> None:
    """Print a fresh random token without storing it (for FOSS_API_TOKENS)."""
    from foss_registry.auth import service as auth

    typer.echo(auth.generate_token())
