"""``foss rules``: approve a range of a package's versions once, list and end such rules."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from foss_registry.cli.client import (
    DEFAULT_API_URL,
    ApiUrlOption,
    JsonOption,
    QuietOption,
    TokenOption,
    api_errors,
    connect,
)
from foss_registry.cli.common import err
from foss_registry.cli.output import print_json, stdout_console, text

app = typer.Typer(
    help="Range approvals: a new version inside a live rule whose scan passed and whose "
    "license the policy approves is approved (a reviewer token writes; any token reads).",
    no_args_is_help=True,
)


def _table(rules: list[dict[str, Any]]) -> Table:
    table = Table("id", "ecosystem", "name", "range", "by", "expires", "live", box=None)
    for rule in rules:
        table.add_row(
            str(rule["id"]),
            rule["ecosystem"],
            text(rule["name"]),
            text(rule["range"]),
            text(rule["created_by"]),
            rule["expires_at"] or "never",
            "yes" if rule["live"] else "no",
        )
    return table


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="Package name.")],
    version_range: Annotated[
        str,
        typer.Argument(
            metavar="RANGE",
            help="In the ecosystem's syntax: '>=4.2,<4.3' (PyPI), '^4.17.0' (npm), "
            "'[1.0,2.0)' (Maven), '1.25.*' (Docker tags).",
        ),
    ],
    ecosystem: Annotated[
        str, typer.Option("--ecosystem", "-e", help="pypi, npm, maven or docker.")
    ],
    comment: Annotated[str | None, typer.Option("--comment", "-m", help="Why.")] = None,
    expires_at: Annotated[
        str | None,
        typer.Option("--expires-at", help="RFC 3339 time the rule stops (default: never)."),
    ] = None,
    apply_to_existing: Annotated[
        bool,
        typer.Option("--apply-to-existing", help="Also look once at the versions pending now."),
    ] = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Create an approval rule; the token's name is its author."""
    body: dict[str, Any] = {
        "ecosystem": ecosystem,
        "name": name,
        "range": version_range,
        "apply_to_existing": apply_to_existing,
    }
    if comment is not None:
        body["comment"] = comment
    if expires_at is not None:
        body["expires_at"] = expires_at
    with api_errors(), connect(api_url, token) as client:
        rule = client.post("/approval-rules", body)
    if quiet:
        return
    if as_json:
        print_json(rule)
        return
    err.print(
        text(f"rule {rule['id']}: {rule['ecosystem']} {rule['name']} {rule['range']}"),
        soft_wrap=True,
    )
    if apply_to_existing:
        err.print(text(f"{rule['approved']} pending version(s) approved now"))


@app.command("list")
def list_rules(
    include_ended: Annotated[
        bool, typer.Option("--all", help="Also ended and expired rules.")
    ] = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List live approval rules, newest first."""
    with api_errors(), connect(api_url, token) as client:
        answer = client.get(
            "/approval-rules", send_token=True, include_ended=str(include_ended).lower()
        )
    if as_json:
        print_json(answer)
        return
    stdout_console().print(_table(answer["rules"]))


@app.command()
def end(
    rule_id: Annotated[int, typer.Argument(metavar="ID", help="The rule's id.")],
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """End a rule now; what it approved stays approved."""
    with api_errors(), connect(api_url, token) as client:
        rule = client.delete(f"/approval-rules/{rule_id}")
    if quiet:
        return
    if as_json:
        print_json(rule)
        return
    err.print(text(f"rule {rule['id']} ended by {rule['ended_by']}"))
