"""``foss review``: approve or reject a version, and read the review queue, through the API."""

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
from foss_registry.cli.output import print_json, status_text, stdout_console, text
from foss_registry.cli.packages import print_record

app = typer.Typer(
    help="Approve or reject package versions (needs a reviewer token).", no_args_is_help=True
)

Name = Annotated[str, typer.Argument(help="Package name.")]
Version = Annotated[str, typer.Argument(help="The version decided on.")]
Ecosystem = Annotated[str, typer.Option("--ecosystem", "-e", help="pypi, npm, maven or docker.")]


def _decide(
    decision: str,
    name: str,
    version: str,
    ecosystem: str,
    comment: str | None,
    api_url: str,
    token: str | None,
    as_json: bool,
    quiet: bool,
    acknowledge_findings: bool = False,
) -> None:
    body: dict[str, Any] = {
        "ecosystem": ecosystem,
        "name": name,
        "version": version,
        "decision": decision,
    }
    if comment is not None:
        body["comment"] = comment
    if acknowledge_findings:
        body["acknowledge_findings"] = True
    with api_errors(), connect(api_url, token) as client:
        result = client.post("/reviews", body)
    for warning in result.get("warnings") or []:
        err.print(text("warning: ", style="yellow") + text(warning), soft_wrap=True)
    if quiet:
        return
    if as_json:
        print_json(result)
        return
    record = result["package"]
    err.print(
        text(f"{record['ecosystem']} {record['name']} {record['version']}: ")
        + status_text(record["status"])
        + text(f" by {result['by']}")
    )
    print_record(record)


@app.command()
def approve(
    name: Name,
    version: Version,
    ecosystem: Ecosystem,
    comment: Annotated[str | None, typer.Option("--comment", "-m", help="Why (optional).")] = None,
    acknowledge_findings: Annotated[
        bool,
        typer.Option(
            "--acknowledge-findings",
            help="Approve past findings at high or above, or an errored scan, knowingly "
            "(recorded in the history).",
        ),
    ] = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Approve a version; the token's name is recorded as the approver."""
    _decide(
        "approve",
        name,
        version,
        ecosystem,
        comment,
        api_url,
        token,
        as_json,
        quiet,
        acknowledge_findings=acknowledge_findings,
    )


@app.command()
def reject(
    name: Name,
    version: Version,
    ecosystem: Ecosystem,
    comment: Annotated[
        str, typer.Option("--comment", "-m", help="Why; shown to the submitter (required).")
    ],
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Reject a version with the reason the submitter will read."""
    _decide("reject", name, version, ecosystem, comment, api_url, token, as_json, quiet)


@app.command("list")
def list_(
    status: Annotated[
        str | None,
        typer.Option("--status", "-s", help="pending (the queue), approved or rejected."),
    ] = None,
    ecosystem: Annotated[str | None, typer.Option("--ecosystem", "-e")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """The review queue and decision history, newest first (`--status pending`: the queue)."""
    with api_errors(), connect(api_url, token) as client:
        page = client.get(
            "/reviews", status=status, ecosystem=ecosystem, limit=limit, offset=offset
        )
    if quiet:
        return
    if as_json:
        print_json(page)
        return
    table = Table("ecosystem", "name", "version", "status", "decision", "by", "at", "comment")
    for r in page["reviews"]:
        table.add_row(
            text(r["ecosystem"]),
            text(r["name"]),
            text(r["version"]),
            status_text(r["status"]),
            status_text(r.get("decision")),
            text(r.get("by")),
            text(r.get("at") or r.get("submitted_at")),
            text(r.get("comment")),
        )
    console = stdout_console()
    console.print(table)
    console.print(text(f"{len(page['reviews'])} of {page['total']} entries"), style="dim")
