"""``foss popular``: the popular package names the typosquatting check compares against."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foss_registry.cli.common import err, fail

app = typer.Typer(
    help="The popular package names shipped for the typosquatting check.", no_args_is_help=True
)


@app.command("refresh")
def refresh(
    ecosystem: Annotated[str, typer.Argument(help="pypi or npm.")],
    source: Annotated[
        Path,
        typer.Argument(help="A file of names, most popular first, one per line ('#' comments)."),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write (default: the shipped list)."),
    ] = None,
    comment: Annotated[
        list[str] | None,
        typer.Option(
            "--comment",
            help="Source and license lines for the list's header (default: the source file's "
            "own '#' lines, else the current list's).",
        ),
    ] = None,
) -> None:
    """Replace a shipped popular-names list with the first 5,000 names of a file."""
    from foss_registry.signals import popular

    ecosystem = ecosystem.strip().lower()
    if ecosystem not in popular.ECOSYSTEMS:
        raise fail(f"no popular list for {ecosystem!r}; use one of {', '.join(popular.ECOSYSTEMS)}")
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {source}: {exc}") from None
    names = popular.parse(lines)
    if not names:
        raise fail(f"{source} holds no names")
    header = [f"# {c}" for c in comment or []]
    header = header or [line for line in lines if line.startswith("#")] or popular.header(ecosystem)
    target = output or popular.path(ecosystem)
    count = popular.write(ecosystem, names, header, target)
    err.print(f"{count} {ecosystem} names written to {target}", highlight=False)
