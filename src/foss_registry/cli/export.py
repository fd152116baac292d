"""``foss export``: download the approved catalogue (CycloneDX, pip constraints or CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from foss_registry.cli.client import (
    DEFAULT_API_URL,
    ApiUrlOption,
    QuietOption,
    TokenOption,
    api_errors,
    connect,
)
from foss_registry.cli.common import EXIT_USAGE, err, fail
from foss_registry.cli.output import delayed_progress
from foss_registry.exports import FORMATS


def export(
    format: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="cyclonedx (CycloneDX 1.5 JSON), constraints (pip) or csv."
        ),
    ] = "cyclonedx",
    ecosystem: Annotated[
        str | None, typer.Option("--ecosystem", "-e", help="Only this ecosystem.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of stdout.", dir_okay=False
        ),
    ] = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    quiet: QuietOption = False,
) -> None:
    """Export the approved catalogue: a CycloneDX BOM, a constraints file, or CSV."""
    fmt = format.strip().lower()
    if fmt not in FORMATS:
        raise fail(f"unknown format {escape(format)!r}; use one of: {', '.join(FORMATS)}")
    with (
        api_errors(),
        connect(api_url, token) as client,
        delayed_progress("downloading the catalogue", None),
    ):
        response = client.get_raw("/export", format=fmt, ecosystem=ecosystem)
    if output is None:
        typer.echo(response.text, nl=False)
        return
    try:
        output.write_bytes(response.content)
    except OSError as exc:
        raise fail(
            f"cannot write {escape(str(output))}: {exc.strerror or exc}", EXIT_USAGE
        ) from None
    if not quiet:
        err.print(escape(f"wrote {output} ({len(response.content):,} bytes, {fmt})"))
