"""``foss packages``: list, search, show and submit package versions through the API."""

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
from foss_registry.cli.common import err
from foss_registry.cli.output import (
    key_values,
    package_table,
    print_json,
    status_text,
    stdout_console,
    text,
)

app = typer.Typer(help="List, search, show and submit package versions.", no_args_is_help=True)

EcosystemFilter = Annotated[
    str | None, typer.Option("--ecosystem", "-e", help="pypi, npm, maven or docker.")
]
StatusFilter = Annotated[
    str | None, typer.Option("--status", "-s", help="pending, approved or rejected.")
]
Limit = Annotated[int, typer.Option("--limit", min=1, max=1000, help="Max results (1-1000).")]
Offset = Annotated[int, typer.Option("--offset", min=0, help="Skip this many results.")]


def _print_page(page: dict[str, Any]) -> None:
    console = stdout_console()
    console.print(package_table(page["packages"]))
    shown = len(page["packages"])
    first = page["offset"] + 1 if shown else page["offset"]
    console.print(
        text(f"{first}-{page['offset'] + shown} of {page['total']} version(s)"), style="dim"
    )


def _list(
    api_url: str,
    token: str | None,
    as_json: bool,
    quiet: bool,
    **params: Any,
) -> None:
    with api_errors(), connect(api_url, token) as client:
        page = client.get("/packages", **params)
    if quiet:
        return
    if as_json:
        print_json(page)
    else:
        _print_page(page)


@app.command("list")
def list_(
    ecosystem: EcosystemFilter = None,
    status: StatusFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List package versions, by name, highest version first."""
    _list(
        api_url,
        token,
        as_json,
        quiet,
        ecosystem=ecosystem,
        status=status,
        limit=limit,
        offset=offset,
    )


@app.command()
def search(
    term: Annotated[str, typer.Argument(help="Part of a name, or words of a description.")],
    ecosystem: EcosystemFilter = None,
    status: StatusFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Search names and descriptions: exact name first, then name prefixes, then the rest."""
    _list(
        api_url,
        token,
        as_json,
        quiet,
        search=term,
        ecosystem=ecosystem,
        status=status,
        limit=limit,
        offset=offset,
    )


def print_record(record: dict[str, Any]) -> None:
    """Print a package record: its fields, its versions and its review history."""
    console = stdout_console()
    title = f"{record['ecosystem']} {record['name']} {record['version']}"
    console.print(
        key_values(
            title,
            [
                ("status", record["status"]),
                ("flags", record.get("flags")),
                ("license", record.get("license")),
                ("purl", record.get("purl")),
                ("description", record.get("description")),
                ("homepage", record.get("homepage")),
                ("repository", record.get("repository")),
                ("justification", record.get("justification")),
                ("submitted", _by_at(record.get("submitted_by"), record.get("submitted_at"))),
                ("approved", _by_at(record.get("approved_by"), record.get("approved_at"))),
                ("rejected", _by_at(record.get("rejected_by"), record.get("rejected_at"))),
                ("rejection reason", record.get("rejection_reason")),
            ],
        )
    )
    versions = Table("version", "status", title="versions", title_justify="left")
    for v in record.get("versions", []):
        versions.add_row(text(v["version"]), status_text(v["status"]))
    console.print(versions)
    print_upstream(console, record)
    if record.get("reviews"):
        history = Table("decision", "by", "at", "comment", title="reviews", title_justify="left")
        for r in record["reviews"]:
            comment = r.get("comment") or "; ".join(r.get("reasons") or [])
            history.add_row(status_text(r["decision"]), text(r["by"]), text(r["at"]), text(comment))
        console.print(history)


_LEVEL_STYLES = {"block": "bold red", "review": "yellow", "info": "dim"}


def print_upstream(console: Any, record: dict[str, Any]) -> None:
    """Print what the upstream registry says (``upstream``) and the risk signals."""
    up = record.get("upstream") or {}
    status = up.get("status", "pending")
    pairs: list[tuple[str, Any]] = [("status", status)]
    if up.get("reason"):
        pairs.append(("reason", up["reason"]))
    if status == "ok":
        license_text = up.get("license") or up.get("license_raw")
        if up.get("license_from_upstream"):
            license_text = f"{license_text} (used: none was submitted)"
        deps = up.get("dependencies") or []
        pairs += [
            ("source", up.get("source")),
            ("fetched", up.get("fetched_at")),
            ("license", license_text),
            ("released", up.get("released_at")),
            ("yanked", (up.get("yanked_reason") or "yes") if up.get("yanked") else None),
            ("deprecated", up.get("deprecated")),
            ("homepage", up.get("homepage")),
            ("repository", up.get("repository")),
            ("install scripts", "; ".join(
                f"{s['name']}: {s['command']}" for s in up.get("install_scripts") or []
            ) or None),
            ("files", ", ".join(f["filename"] for f in up.get("files") or []) or None),
            ("dependencies", ", ".join(
                f"{d['name']} {d['requirement']}".strip() + ("" if d["scope"] == "runtime"
                                                            else f" ({d['scope']})")
                for d in deps[:20]
            ) + (f" … and {len(deps) - 20} more" if len(deps) > 20 else "") or None),
        ]
    elif up.get("source"):
        pairs.append(("source", up.get("source")))
    console.print(key_values("upstream", pairs))
    signals = record.get("signals") or []
    if signals:
        table = Table("level", "signal", "message", title="signals", title_justify="left")
        for signal in signals:
            style = _LEVEL_STYLES.get(signal["level"])
            table.add_row(
                text(signal["level"], style), text(signal["code"]), text(signal["message"])
            )
        console.print(table)


def _by_at(by: str | None, at: str | None) -> str | None:
    if by is None and at is None:
        return None
    return f"{by or '?'} at {at or '?'}"


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Package name (npm scopes, Docker paths too).")],
    ecosystem: EcosystemFilter = None,
    version: Annotated[
        str | None, typer.Option("--version", "-v", help="Version (default: the highest).")
    ] = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Show one version's record: status, license, versions and review history."""
    with api_errors(), connect(api_url, token) as client:
        record = client.get(f"/packages/{path_of(name)}", ecosystem=ecosystem, version=version)
    if quiet:
        return
    if as_json:
        print_json(record)
    else:
        print_record(record)


@app.command()
def submit(
    name: Annotated[str, typer.Argument(help="Package name.")],
    version: Annotated[str, typer.Argument(help="The version to review.")],
    ecosystem: Annotated[
        str, typer.Option("--ecosystem", "-e", help="pypi, npm, maven or docker.")
    ],
    license: Annotated[
        str | None, typer.Option("--license", help="SPDX license expression.")
    ] = None,
    justification: Annotated[
        str | None, typer.Option("--justification", help="Why the project needs it.")
    ] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    homepage: Annotated[str | None, typer.Option("--homepage", help="http(s) URL.")] = None,
    repository: Annotated[str | None, typer.Option("--repository", help="http(s) URL.")] = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Submit a package version for review (needs a submitter token)."""
    body = {
        "name": name,
        "version": version,
        "ecosystem": ecosystem,
        "license": license,
        "justification": justification,
        "description": description,
        "homepage": homepage,
        "repository": repository,
    }
    with api_errors(), connect(api_url, token) as client:
        record = client.post("/packages", {k: v for k, v in body.items() if v is not None})
    if quiet:
        return
    if as_json:
        print_json(record)
        return
    line = status_text(record["status"])
    err.print(
        text(f"submitted {record['ecosystem']} {record['name']} {record['version']}: ") + line
    )
    print_record(record)
