"""``foss token``: create, list, revoke and generate API tokens (server side, no key needed)."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.table import Table

from foss_registry.cli.common import domain_errors, engine, err, out

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
        secret, row = auth.create_token(conn, name=name, role=role, expires_at=expires)
    typer.echo(secret)
    err.print(
        f"created {row['role']} token {row['name']!r} (prefix {row['prefix']}); "
        "it is shown only this once."
    )


@app.command("list")
def list_() -> None:
    """List tokens: name, role, prefix, dates and revocation; never a secret."""
    from foss_registry.auth import service as auth
    from foss_registry.db import write_transaction
    from foss_registry.packages.service import iso

    with write_transaction(engine()) as conn:
        rows = auth.list_tokens(conn)
    table = Table("id", "name", "role", "prefix", "created", "expires", "last used", "revoked")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["name"],
            r["role"],
            r["prefix"],
            iso(r["created_at"]) or "",
            iso(r["expires_at"]) or "never",
            iso(r["last_used_at"]) or "never",
            iso(r["revoked_at"]) or "",
        )
    out.print(table)


@app.command()
def revoke(name_or_id: str = typer.Argument(..., help="Token name or numeric id.")) -> None:
    """Revoke a token; it stops working on the next request."""
    from foss_registry.auth import service as auth
    from foss_registry.db import write_transaction

    with domain_errors(), write_transaction(engine()) as conn:
        row = auth.revoke_token(conn, name_or_id)
    err.print(f"revoked token {row['name']!r} (id {row['id']})")


@app.command()
def generate() -> None:
    """Print a fresh random token without storing it (for FOSS_API_TOKENS)."""
    from foss_registry.auth import service as auth

    typer.echo(auth.generate_token())
