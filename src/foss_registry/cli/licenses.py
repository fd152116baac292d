"""``foss licenses``: license facts, the catalogue, and compatibility checks, through the API."""

from __future__ import annotations

from typing import Annotated

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
    path_of,
)
from foss_registry.cli.common import EXIT_CHECK_FAILED
from foss_registry.cli.output import key_values, print_json, status_text, stdout_console, text

app = typer.Typer(help="License facts, policy status and compatibility.", no_args_is_help=True)


@app.command()
def show(
    license_id: Annotated[str, typer.Argument(metavar="ID", help="SPDX id (case-insensitive).")],
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Show a license: category, status under the policy, facts and compatibility."""
    with api_errors(), connect(api_url, token) as client:
        info = client.get(f"/licenses/{path_of(license_id)}")
    if quiet:
        return
    if as_json:
        print_json(info)
        return
    deprecated = None
    if info.get("deprecated"):
        deprecated = "yes" + (
            f", replaced by {info['replaced_by']}" if info.get("replaced_by") else ""
        )
    known = info.get("compatibility_known", True)
    stdout_console().print(
        key_values(
            f"{info['name']}: {info.get('full_name', '')}",
            [
                ("status", info["status"]),
                ("category", info.get("category")),
                ("osi approved", _yes_no(info.get("osi_approved"))),
                ("deprecated", deprecated),
                ("requires attribution", _yes_no(info.get("requires_attribution"))),
                ("allows commercial use", _yes_no(info.get("allows_commercial"))),
                ("url", info.get("url")),
                ("compatible with", info.get("compatible_with") if known else "not known"),
                ("incompatible with", info.get("incompatible_with")),
                ("compatibility unknown", info.get("compatibility_unknown")),
            ],
        )
    )


def _yes_no(value: object) -> str | None:
    if value is None:
        return None
    return "yes" if value else "no"


@app.command("list")
def list_(
    category: Annotated[str | None, typer.Option("--category", help="e.g. permissive.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="approved, restricted or rejected.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List licenses with their category and status under the policy in force."""
    with api_errors(), connect(api_url, token) as client:
        page = client.get("/licenses", category=category, status=status, limit=limit, offset=offset)
    if quiet:
        return
    if as_json:
        print_json(page)
        return
    table = Table("id", "name", "category", "status", "osi")
    for lic in page["licenses"]:
        table.add_row(
            text(lic["name"]),
            text(lic.get("full_name")),
            text(lic.get("category")),
            status_text(lic.get("status")),
            text(_yes_no(lic.get("osi_approved"))),
        )
    console = stdout_console()
    console.print(table)
    console.print(text(f"{len(page['licenses'])} of {page['total']} licenses"), style="dim")


@app.command()
def check(
    expression: Annotated[str, typer.Argument(help="The package's SPDX license expression.")],
    outbound: Annotated[
        str, typer.Option("--outbound", help="License of your project (the combined work).")
    ],
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """May a project under --outbound include code under EXPRESSION? Exit 0 only for yes."""
    with api_errors(), connect(api_url, token) as client:
        answer = client.get("/licenses/compatibility", outbound=outbound, expression=expression)
    if not quiet:
        if as_json:
            print_json(answer)
        else:
            console = stdout_console()
            console.print(
                text(f"{answer['expression']} in a {answer['outbound']} project: ")
                + status_text(answer["answer"])
            )
            for reason in answer.get("reasons", []):
                console.print(text(f"  - {reason}"))
    if answer["answer"] != "yes":
        raise typer.Exit(EXIT_CHECK_FAILED)
