"""How the client commands print: Rich tables for people, JSON, SARIF and JUnit for machines.

Tables go to stdout through a console that colours only on a terminal and,
when piped, is wide enough not to wrap names. Every value from the server is
printed as plain text (never as Rich markup). Progress bars go to stderr, only
on a terminal, and only once an operation has taken over a second.
"""

from __future__ import annotations

import json
import os
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from foss_registry.cli.common import err
from foss_registry.cli.sarif import describe
from foss_registry.gate import (
    BLOCKING_SEVERITIES,
    VERDICTS,
    GateOptions,
    is_failure,
)

#: Width of tables when stdout is not a terminal (CI logs, pipes): no wrapping of names.
PIPE_WIDTH = 200

STATUS_STYLES = {
    "approved": "green",
    "passed": "green",
    "yes": "green",
    "pending": "yellow",
    "restricted": "yellow",
    "not_scanned": "dim",
    "unknown": "magenta",
    "unpinned": "magenta",
    "rejected": "red",
    "failed": "red",
    "vulnerable": "red",
    "no": "red",
    "error": "red",
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
}


def stdout_console() -> Console:
    """Return a console for stdout: colour on a terminal only, wide when piped."""
    console = Console(highlight=False)
    if not console.is_terminal:
        width = os.environ.get("COLUMNS", "")
        console = Console(highlight=False, width=int(width) if width.isdigit() else PIPE_WIDTH)
    return console


def text(value: Any, style: str | None = None) -> Text:
    """Return a server value as plain text (``None`` as an empty cell), never as markup."""
    if value is None:
        return Text("")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return Text(str(value), style=style or "")


def status_text(value: Any) -> Text:
    """Return a status word coloured by what it means."""
    return text(value, STATUS_STYLES.get(str(value)))


def print_json(data: Any) -> None:
    """Print a JSON document on stdout exactly as the API shaped it."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def key_values(title: str, pairs: Sequence[tuple[str, Any]]) -> Table:
    """Return a two-column table of labelled values (empty values left out)."""
    table = Table(title=title, show_header=False, title_justify="left", box=None)
    table.add_column(style="bold")
    table.add_column()
    for label, value in pairs:
        if value is None or value == [] or value == "":
            continue
        cell = status_text(value) if label in ("status", "answer") else text(value)
        table.add_row(label, cell)
    return table


def package_table(items: Sequence[Mapping[str, Any]]) -> Table:
    """Return a table of package versions (``GET /packages`` items)."""
    table = Table("name", "version", "ecosystem", "status", "license")
    for item in items:
        table.add_row(
            text(item["name"]),
            text(item["version"]),
            text(item["ecosystem"]),
            status_text(item["status"]),
            text(item.get("license")),
        )
    return table


@contextmanager
def delayed_progress(description: str, total: int | None) -> Iterator[Progress]:
    """Yield a progress bar on stderr that appears only after one second, on a terminal."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    progress.add_task(description, total=total)
    timer = threading.Timer(1.0, progress.start)
    timer.daemon = True
    timer.start()
    try:
        yield progress
    finally:
        timer.cancel()
        progress.stop()


# --- foss check -------------------------------------------------------------------------


def check_table(results: Sequence[Mapping[str, Any]]) -> Table:
    """Return the gate's report: one section per verdict, the ones to act on first."""
    table = Table(
        "verdict",
        "ecosystem",
        "name",
        "version",
        "nearest approved",
        "scan",
        "worst severity",
        "license",
        "note",
    )
    for verdict_name in VERDICTS:
        group = [r for r in results if r["verdict"] == verdict_name]
        for r in group:
            license_cell = text(r.get("license"))
            if r.get("license_status"):
                if not r.get("license"):
                    license_cell = text("none", "dim")
                status = r["license_status"]
                license_cell.append(f" ({status})", STATUS_STYLES.get(status, ""))
            table.add_row(
                status_text(verdict_name),
                text(r["ecosystem"]),
                text(r["name"]),
                text(r.get("version")),
                text(r.get("nearest_approved")),
                status_text(r.get("scan_status")),
                status_text(r.get("worst_severity")),
                license_cell,
                _note_cell(r),
            )
        if group:
            table.add_section()
    return table


def _note_cell(r: Mapping[str, Any]) -> Text:
    """The note, after every finding of an approved version (see :func:`findings_text`)."""
    cell = findings_text(r)
    if r.get("note"):
        if cell:
            cell.append("\n")
        cell.append(str(r["note"]))
    return cell


def findings_text(r: Mapping[str, Any]) -> Text:
    """Every finding of an approved version, one a line: id, severity, and its state.

    The state is ``acknowledged`` (at approval), ``triaged``, or ``open`` for a
    finding at high or above that is neither (it fails the gate).
    """
    cell = Text()
    if r.get("status") != "approved":
        return cell
    for i, finding in enumerate(r.get("findings") or []):
        if i:
            cell.append("\n")
        severity = str(finding.get("severity"))
        cell.append(f"{finding.get('id')} ")
        cell.append(severity, STATUS_STYLES.get(severity, ""))
        if finding.get("triaged"):
            cell.append(" triaged", "dim")
        elif finding.get("acknowledged"):
            cell.append(" acknowledged", "dim")
        elif severity in BLOCKING_SEVERITIES:
            cell.append(" open", "red")
    return cell


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(value: str) -> str:
    # XML 1.0 cannot carry most control characters, even escaped; a lockfile can.
    return _XML_INVALID.sub("\ufffd", value)


def junit(results: Sequence[Mapping[str, Any]], options: GateOptions) -> str:
    """Return JUnit XML: one test case per dependency, failing ones with a ``<failure>``."""
    failures = sum(1 for r in results if is_failure(r["verdict"], options))
    suite = ET.Element(
        "testsuite",
        name="foss check",
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_xml(f"{r['ecosystem']}.{r.get('source') or 'dependencies'}"),
            name=_xml(f"{r['name']}=={r.get('version') or '*'}"),
        )
        if is_failure(r["verdict"], options):
            message = _xml(describe(r))
            failure = ET.SubElement(case, "failure", message=message, type=r["verdict"])
            failure.text = message
        elif r["verdict"] != "approved":
            out = ET.SubElement(case, "system-out")
            out.text = _xml(describe(r))
    root = ET.Element(
        "testsuites", name="foss check", tests=str(len(results)), failures=str(failures), errors="0"
    )
    root.append(suite)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
