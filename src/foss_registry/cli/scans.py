"""``foss scans``: the latest security scan of a package version, through the API."""

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
    path_of,
)
from foss_registry.cli.output import key_values, print_json, status_text, stdout_console, text

app = typer.Typer(help="Read security scans of package versions.", no_args_is_help=True)

_LEVELS = ("critical", "high", "medium", "low", "unknown")


def _counts(severity: dict[str, Any]) -> str:
    return ", ".join(f"{severity.get(level, 0)} {level}" for level in _LEVELS)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Package name.")],
    ecosystem: Annotated[
        str | None, typer.Option("--ecosystem", "-e", help="pypi, npm, maven or docker.")
    ] = None,
    version: Annotated[
        str | None, typer.Option("--version", "-v", help="Version (default: the highest).")
    ] = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Show the latest scan: status, severity counts and each vulnerability."""
    with api_errors(), connect(api_url, token) as client:
        report = client.get(
            f"/security/scans/{path_of(name)}", ecosystem=ecosystem, version=version
        )
    if quiet:
        return
    if as_json:
        print_json(report)
        return
    console = stdout_console()
    database = report.get("database") or {}
    age = database.get("age_days")
    console.print(
        key_values(
            f"scan of {report.get('ecosystem', '')} {report['package']} {report['version']}",
            [
                ("status", report["status"]),
                ("reason", report.get("reason")),
                ("scanned", report.get("scan_date")),
                ("severity", _counts(report.get("severity") or {})),
                ("tools", report.get("tools_used")),
                ("database age", None if age is None else f"{age} days"),
            ],
        )
    )
    vulnerabilities = report.get("vulnerabilities") or []
    if vulnerabilities:
        table = Table(
            "id",
            "severity",
            "cvss",
            "fixed in",
            "summary",
            title="vulnerabilities",
            title_justify="left",
        )
        for v in vulnerabilities:
            cvss = v.get("cvss") or {}
            ident = text(v.get("id"))
            if v.get("malicious"):
                ident.append(" (malicious)", "bold red")
            table.add_row(
                ident,
                status_text(v.get("severity")),
                text(cvss.get("score")),
                text(v.get("fixed_versions")),
                text(v.get("summary")),
            )
        console.print(table)
