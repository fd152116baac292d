"""``foss vulndb``: import, download and inspect the vulnerability database (server side).

These commands act on the server's database directly (like ``foss token``)
and may run while the server runs: imports commit in batches, and every
version whose newest scan saw other data of its ecosystem is queued for a re-scan
(or, when no new or changed advisory names its package, confirmed as it is).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from foss_registry.cli.common import (
    EXIT_SERVER,
    domain_errors,
    err,
    fail,
    out,
    ready_engine,
    settings,
)
from foss_registry.errors import DomainError

if TYPE_CHECKING:
    from foss_registry.vulns.service import ImportReport

app = typer.Typer(
    help="Manage the vulnerability database (OSV advisories) in the server's database.",
    no_args_is_help=True,
)

EXIT_PARTIAL = 1


@contextmanager
def _progress(transient: bool = True) -> Iterator[Progress]:
    # A bar only on a terminal: logs and pipes get the summary lines alone.
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=transient,
        disable=not err.is_terminal,
    )
    with bar:
        yield bar


def _summary(label: str, report: ImportReport) -> str:
    parts = [
        f"{report.read:,} records read",
        f"{report.new:,} new",
        f"{report.updated:,} updated",
        f"{report.unchanged:,} unchanged",
    ]
    if report.older:
        parts.append(f"{report.older:,} older than stored")
    if report.withdrawn:
        parts.append(f"{report.withdrawn:,} withdrawn (kept, never matched)")
    if report.skipped:
        parts.append(f"{report.skipped:,} without a supported ecosystem (skipped)")
    if report.invalid:
        parts.append(f"{report.invalid:,} invalid (skipped)")
    parts.append(f"{report.rescans:,} re-scans queued")
    if report.confirmed:
        parts.append(f"{report.confirmed:,} scans confirmed against the new data")
    return f"{label}: " + ", ".join(parts)


def _report_errors(report: ImportReport) -> None:
    for message in report.errors:
        err.print(f"[yellow]warning:[/yellow] {message}", highlight=False, soft_wrap=True)
    if report.invalid > len(report.errors):
        err.print(f"[yellow]warning:[/yellow] ... and {report.invalid - len(report.errors)} more")


@app.command("import")
def import_(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="OSV records: .json/.yaml files, folders of them, or zips in the osv.dev "
            "export layout (<Ecosystem>/all.zip).",
            show_default=False,
        ),
    ],
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON on stdout."),
) -> None:
    """Load OSV records; re-importing updates records by id and `modified`, never duplicates.

    Exit status: 0 when every record was read, 1 when some records were invalid
    (the others are imported), 2 when a path cannot be read or holds nothing to
    import (nothing imported).
    """
    from foss_registry.scans.service import IMPORT_RESCANS
    from foss_registry.vulns import osv, service

    totals: dict[Path, int] = {}
    for path in paths:
        try:
            totals[path] = osv.count_records(path)
        except osv.OSVSourceError as exc:
            raise fail(exc.detail) from None
    eng = ready_engine()
    overall = service.ImportReport()
    results = []
    with _progress() as bar:
        for path in paths:
            task = bar.add_task(f"importing {path.name}", total=totals[path])

            def advance(count: int, task: TaskID = task) -> None:
                bar.advance(task, count)

            with domain_errors():
                report = service.import_path(eng, path, rescans=IMPORT_RESCANS, progress=advance)
            results.append((path, report))
            overall.merge(report)
    for path, report in results:
        err.print(_summary(str(path), report), highlight=False, soft_wrap=True)
    _report_errors(overall)
    if len(results) > 1:
        err.print(_summary("total", overall), highlight=False, soft_wrap=True)
    if as_json:
        out.print_json(json.dumps(overall.as_dict()))
    if overall.invalid:
        raise typer.Exit(EXIT_PARTIAL)


@app.command("sync")
def sync_(
    ecosystem: Annotated[
        list[str] | None,
        typer.Option(
            "--ecosystem",
            "-e",
            help="OSV ecosystem to download (repeatable); default FOSS_OSV_ECOSYSTEMS.",
            show_default=False,
        ),
    ] = None,
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON on stdout."),
) -> None:
    """Download the OSV exports from FOSS_OSV_URL (<url>/<Ecosystem>/all.zip) and import them.

    Exit status: 0 on success, 1 when some records were invalid, 2 when
    FOSS_OSV_URL is not set, 3 when a download failed (nothing imported).
    """
    from foss_registry.scans.service import IMPORT_RESCANS
    from foss_registry.vulns import service
    from foss_registry.vulns import sync as osv_sync

    cfg = settings()
    eng = ready_engine()
    with _progress() as bar:
        tasks: dict[str, Any] = {}
        imported = bar.add_task("importing", total=None, visible=False)

        def on_download(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"downloading {name}", total=total)
            bar.update(tasks[name], completed=done, total=total)

        def on_import(count: int) -> None:
            bar.update(imported, visible=True, advance=count)

        try:
            results = osv_sync.sync(
                eng,
                cfg,
                rescans=IMPORT_RESCANS,
                ecosystems=ecosystem or None,
                on_download=on_download,
                on_import=on_import,
            )
        except osv_sync.DownloadError as exc:
            raise fail(exc.detail, EXIT_SERVER) from None
        except DomainError as exc:
            raise fail(exc.detail) from None
    overall = service.ImportReport()
    for result in results:
        err.print(
            _summary(f"{result.ecosystem} ({result.bytes:,} bytes)", result.report),
            highlight=False,
            soft_wrap=True,
        )
        overall.merge(result.report)
    _report_errors(overall)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "ecosystems": [
                        {"ecosystem": r.ecosystem, "url": r.url, "bytes": r.bytes}
                        | r.report.as_dict()
                        for r in results
                    ],
                    "total": overall.as_dict(),
                }
            )
        )
    if overall.invalid:
        raise typer.Exit(EXIT_PARTIAL)


@app.command("status")
def status(
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON on stdout."),
) -> None:
    """Show record counts per ecosystem and source, and how old the newest record is."""
    import msgspec

    from foss_registry.db import read_connection
    from foss_registry.vulns import service

    cfg = settings()
    eng = ready_engine()
    with read_connection(eng) as conn:
        state = service.status(conn, stale_days=cfg.vulndb_stale_days)
    if as_json:
        out.print_json(json.dumps(msgspec.to_builtins(state)))
        return
    if not state.records:
        out.print(
            "The vulnerability database is empty: scans answer not_scanned. "
            "Load data with `foss vulndb import PATH` or `foss vulndb sync`."
        )
        return
    table = Table("ecosystem", "source", "records", "withdrawn", "newest modified", "age (days)")
    for eco in state.ecosystems:
        first = True
        for source, counts in eco.sources.items():
            table.add_row(
                eco.ecosystem if first else "",
                source,
                f"{counts.records:,}",
                f"{counts.withdrawn:,}",
                (eco.newest_modified or "") if first else "",
                f"{eco.age_days}" if first else "",
            )
            first = False
    out.print(table)
    stale = " (stale)" if state.stale else ""
    out.print(
        f"{state.records:,} records ({state.withdrawn:,} withdrawn); newest modified "
        f"{state.newest_modified}, {state.age_days} days ago{stale}; last import "
        f"{state.last_imported_at}",
        highlight=False,
    )
