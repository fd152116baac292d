"""``foss check``: the CI gate. Are this project's dependencies approved in the registry?

Reads dependency files (``foss_registry.deps``), sends every dependency in
``POST /check`` batches (at most 5,000 and under 4 MiB each), optionally
submits the unknown ones for review, and reports by verdict. Exit code 0 when
every dependency passes, 1 when one fails, 2 for a bad file or option, 3 when
the registry cannot be reached or answers an error.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from foss_registry import __version__
from foss_registry.cli.client import (
    DEFAULT_API_URL,
    ApiError,
    ApiUrlOption,
    Client,
    TokenOption,
    api_errors,
    connect,
)
from foss_registry.cli.common import (
    EXIT_CHECK_FAILED,
    EXIT_SERVER,
    EXIT_USAGE,
    err,
    fail,
)
from foss_registry.cli.output import (
    PIPE_WIDTH,
    check_table,
    delayed_progress,
    junit,
    stdout_console,
    text,
)
from foss_registry.cli.sarif import sarif
from foss_registry.deps import Dependency, DependencyFileError, parse_files
from foss_registry.gate import (
    MAX_CHECK_BODY_BYTES,
    MAX_CHECK_DEPENDENCIES,
    SEVERITY_THRESHOLDS,
    GateOptions,
    is_failure,
    summary_line,
    tally,
    verdict,
)

OUTPUT_FORMATS = ("table", "json", "sarif", "junit")
# Leave room under the server's 4 MiB for the JSON around the items.
_BATCH_BYTES = MAX_CHECK_BODY_BYTES - 256 * 1024


def batches(items: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Split request items into batches of at most 5,000 and well under 4 MiB each."""
    batch: list[dict[str, Any]] = []
    size = 0
    for item in items:
        item_size = len(json.dumps(item, ensure_ascii=False).encode()) + 1
        if batch and (len(batch) >= MAX_CHECK_DEPENDENCIES or size + item_size > _BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item_size
    if batch:
        yield batch


def _item(dep: Dependency) -> dict[str, Any]:
    return {"name": dep.name, "version": dep.version, "ecosystem": dep.ecosystem}


def read_vex(path: Path) -> list[dict[str, Any]]:
    """The statements of an OpenVEX file that make findings stop counting, for ``/check``."""
    from foss_registry.errors import InvalidInputError
    from foss_registry.triage.openvex import read_statements

    try:
        statements = read_statements(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"cannot read the VEX file {escape(str(path))}: {escape(str(exc))}") from None
    except InvalidInputError as exc:
        raise fail(f"{escape(str(path))}: {escape(exc.detail)}") from None
    return [
        {
            "vulnerability": s.vulnerability,
            "aliases": list(s.aliases),
            "products": list(s.products),
            "status": s.status,
            "justification": s.justification,
        }
        for s in statements
    ]


def lookup(
    client: Client, deps: Sequence[Dependency], vex: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Return the registry's answer for each dependency, in order, batch by batch."""
    results: list[dict[str, Any]] = []
    with delayed_progress("checking dependencies", len(deps)) as progress:
        for batch in batches([_item(d) for d in deps]):
            body: dict[str, Any] = {"dependencies": batch}
            if vex:
                body["vex"] = list(vex)
            answer = client.post("/check", body)
            results.extend(answer["dependencies"])
            progress.advance(progress.task_ids[0], len(batch))
    return results


#: Submissions per ``POST /submissions`` request (the route takes up to 1,000).
SUBMIT_BATCH = 250
#: How many times a rate-limited batch waits for its ``Retry-After`` before giving up.
SUBMIT_RATE_LIMIT_RETRIES = 5


def submission(dep: Dependency, *, with_license: bool = True) -> dict[str, Any]:
    """The submission of a dependency: what the lockfile knows about it."""
    body: dict[str, Any] = {
        "name": dep.name,
        "version": dep.version,
        "ecosystem": dep.ecosystem,
        "justification": f"Submitted by `foss check` from {dep.source}.",
    }
    if dep.license and with_license:
        body["license"] = dep.license
    elif dep.license:
        # Not an expression the registry accepts: kept verbatim for the reviewer.
        body["justification"] += f" The lockfile declares the license {dep.license!r}."
    if dep.resolved:
        body["resolved"] = dep.resolved
    if dep.integrity:
        body["integrity"] = dep.integrity
    return body


def _license_refused(outcome: Mapping[str, Any]) -> bool:
    problem = outcome.get("problem") or {}
    return outcome.get("status") == 400 and any(
        e.get("field") == "license" for e in problem.get("errors") or []
    )


def _post_batch(client: Client, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = client.post("/submissions", {"packages": bodies})
    outcomes: list[dict[str, Any]] = answer["results"]
    return outcomes


def submit_missing(
    client: Client, deps: Sequence[Dependency], results: list[dict[str, Any]]
) -> None:
    """Submit every pinned dependency the registry does not know, then look them up again.

    Each submission carries what the file knows (license, resolved URL,
    integrity); they go in batches through ``POST /submissions``, under a
    progress bar. A license the registry refuses (a lockfile's ``UNLICENSED``
    say) is sent again without it, noted in the justification. A version
    someone else submitted meanwhile (409) is fine; another refusal is noted on
    that dependency. A rate limit is waited out as its ``Retry-After`` asks,
    saying so on stderr, a few times before the rest is left unsubmitted with a
    note; a missing or insufficient token stops the run (exit 3).
    """
    missing = [i for i, r in enumerate(results) if r["status"] == "unknown" and deps[i].pinned]
    refused: dict[int, str] = {}

    def waiting(seconds: float) -> None:
        err.print(
            text(f"rate limited by the registry: waiting {seconds:.0f} s as its Retry-After asks"),
            style="yellow",
        )

    client.rate_limit_retries = SUBMIT_RATE_LIMIT_RETRIES
    client.on_rate_limit = waiting
    with delayed_progress("submitting unknown versions", len(missing)) as progress:
        for start in range(0, len(missing), SUBMIT_BATCH):
            chunk = missing[start : start + SUBMIT_BATCH]
            try:
                outcomes = _post_batch(client, [submission(deps[i]) for i in chunk])
                again = [i for i, o in zip(chunk, outcomes, strict=True) if _license_refused(o)]
                if again:
                    retried = _post_batch(
                        client, [submission(deps[i], with_license=False) for i in again]
                    )
                    by_index = dict(zip(chunk, outcomes, strict=True)) | dict(
                        zip(again, retried, strict=True)
                    )
                    outcomes = [by_index[i] for i in chunk]
            except ApiError as exc:
                if exc.status in (401, 403):
                    raise fail(
                        f"--submit-missing needs a submitter token: {escape(exc.detail)}",
                        EXIT_SERVER,
                    ) from None
                if exc.status == 429:
                    # Still limited after waiting: stop rather than wait on and on.
                    for j in missing[start:]:
                        refused[j] = f"not submitted: {exc.detail}"
                    break
                for j in chunk:
                    refused[j] = f"not submitted: {exc.detail}"
                progress.advance(progress.task_ids[0], len(chunk))
                continue
            for i, outcome in zip(chunk, outcomes, strict=True):
                if outcome["status"] not in (201, 409):
                    detail = (outcome.get("problem") or {}).get("detail") or "refused"
                    refused[i] = f"not submitted: {detail}"
            progress.advance(progress.task_ids[0], len(chunk))
    submitted = [i for i in missing if i not in refused]
    if submitted:
        again_found = lookup(client, [deps[i] for i in submitted])
        for i, result in zip(submitted, again_found, strict=True):
            if result["status"] != "unknown":
                result["note"] = "submitted for review by this run"
            results[i] = result
    for i, note in refused.items():
        results[i]["note"] = note


def judge(
    deps: Sequence[Dependency], results: Sequence[dict[str, Any]], options: GateOptions
) -> list[dict[str, Any]]:
    """Return the report rows: each answer with its ``verdict`` and ``source`` file."""
    rows: list[dict[str, Any]] = []
    for dep, result in zip(deps, results, strict=True):
        row = dict(result)
        row["verdict"] = verdict(result, pinned=dep.pinned, options=options)
        row["source"] = dep.source
        row["line"] = dep.line
        if not dep.pinned:
            row["note"] = dep.note or "no version pinned"
        elif dep.note and row.get("note"):
            row["note"] = f"{dep.note}; {row['note']}"
        elif dep.note:
            row["note"] = dep.note
        rows.append(row)
    return rows


def report_document(
    rows: Sequence[dict[str, Any]], options: GateOptions, skipped: Sequence[str]
) -> dict[str, Any]:
    """Return the gate's JSON: the API's shape plus ``verdict``, ``source`` and the result.

    The summary counts verdicts, the one classification the report groups by
    (each row's registry ``status`` stays on the row).
    """
    summary = tally((r["verdict"] for r in rows), options)
    return {"dependencies": list(rows), "summary": summary, "skipped": list(skipped)}


def check(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH",
            help="requirements.txt, poetry.lock, uv.lock, Pipfile.lock, package-lock.json, "
            "yarn.lock, pom.xml, CycloneDX or SPDX 2.3 JSON.",
            show_default=False,
        ),
    ],
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="table, json, sarif (2.1.0) or junit (XML).")
    ] = "table",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            dir_okay=False,
            help="Write the report to this file instead of stdout.",
        ),
    ] = None,
    allow_pending: Annotated[
        bool, typer.Option("--allow-pending", help="Versions awaiting review do not fail.")
    ] = False,
    fail_on_severity: Annotated[
        str | None,
        typer.Option(
            "--fail-on-severity",
            metavar="LEVEL",
            help="Also fail a dependency whose latest scan has a finding at or above LEVEL "
            "(low, medium, high, critical; unknown severity counts at any level). Without it, "
            "an approved version fails only with a finding at high or above that was neither "
            "acknowledged nor triaged, or the flag new_vulnerability or malicious.",
        ),
    ] = None,
    submit: Annotated[
        bool,
        typer.Option(
            "--submit-missing",
            help="Submit every version the registry does not know for review (needs a "
            "submitter token).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    vex: Annotated[
        Path | None,
        typer.Option(
            "--vex",
            metavar="FILE",
            dir_okay=False,
            help="An OpenVEX file: findings its not_affected or fixed statements name for a "
            "product (purl) do not count.",
        ),
    ] = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No table, notes or summary; a --format document is still printed.",
        ),
    ] = False,
) -> None:
    """Check that every dependency in the files is approved; exit 1 if one is not.

    Exit codes: 0 every dependency passes, 1 the check failed, 2 a bad file or
    option, 3 the registry could not be reached or answered an error.
    """
    fmt = "json" if as_json else _format(output_format)
    options = _gate_options(allow_pending, fail_on_severity)
    client = connect(api_url, token)

    skipped: list[str] = []
    try:
        with delayed_progress("reading dependency files", None):
            deps = parse_files(paths, skipped=skipped)
    except DependencyFileError as exc:
        raise fail(escape(exc.detail), EXIT_USAGE) from None

    statements = read_vex(vex) if vex is not None else []
    with api_errors(), client:
        results = lookup(client, deps, statements) if deps else []
        if submit:
            submit_missing(client, deps, results)

    rows = judge(deps, results, options)
    document = report_document(rows, options, skipped)
    if not quiet:
        for note in skipped:
            err.print(text(f"note: {note}"), style="dim", soft_wrap=True)
    _report(rows, document, options, fmt=fmt, output=output, quiet=quiet)

    if any(is_failure(r["verdict"], options) for r in rows):
        raise typer.Exit(EXIT_CHECK_FAILED)


def _format(value: str) -> str:
    fmt = value.strip().lower()
    if fmt not in OUTPUT_FORMATS:
        raise fail(f"unknown format {escape(value)!r}; use one of: " + ", ".join(OUTPUT_FORMATS))
    return fmt


def _gate_options(allow_pending: bool, fail_on_severity: str | None) -> GateOptions:
    threshold = None
    if fail_on_severity is not None:
        threshold = fail_on_severity.strip().lower()
        if threshold not in SEVERITY_THRESHOLDS:
            raise fail(
                f"unknown severity {escape(fail_on_severity)!r} for --fail-on-severity; use one "
                f"of: {', '.join(SEVERITY_THRESHOLDS)}"
            )
    return GateOptions(allow_pending=allow_pending, fail_on_severity=threshold)


def _report(
    rows: Sequence[dict[str, Any]],
    document: dict[str, Any],
    options: GateOptions,
    *,
    fmt: str,
    output: Path | None,
    quiet: bool,
) -> None:
    """Print or write the report; beside a document, the summary line goes to stderr."""
    line = summary_line(tally((r["verdict"] for r in rows), options))
    if fmt == "table":
        if quiet:
            return
        if output is not None:
            _write(output, _table_text(rows, line))
            return
        console = stdout_console()
        if rows:
            console.print(check_table(rows))
        console.print(text(line, "red" if document["summary"]["failing"] else "green"))
        return
    if fmt == "json":
        body = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "sarif":
        body = (
            json.dumps(sarif(rows, options, tool_version=__version__), indent=2, ensure_ascii=False)
            + "\n"
        )
    else:
        body = junit(rows, options)
    if output is not None:
        _write(output, body)
    else:
        typer.echo(body, nl=False)
    if not quiet:
        err.print(text(line), soft_wrap=True)


def _table_text(rows: Sequence[dict[str, Any]], line: str) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=PIPE_WIDTH, no_color=True, highlight=False)
    if rows:
        console.print(check_table(rows))
    console.print(text(line))
    return buffer.getvalue()


def _write(path: Path, body: str) -> None:
    try:
        path.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {escape(str(path))}: {exc.strerror or exc}", EXIT_USAGE) from None
