"""``foss enrich``: ask the upstream registries again about stored versions (server side).

Acts on the server's database directly (like ``foss vulndb``): the versions
are asked about concurrently, then their facts, signals and the policy's
decisions are stored in batches. Runs while the server runs.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated

import typer

from foss_registry.cli.common import domain_errors, err, fail, out, ready_engine

#: Versions stored per transaction.
BATCH = 100


def split_target(target: str) -> tuple[str, str | None]:
    """``NAME`` or ``NAME@VERSION`` (an npm scope's leading ``@`` is part of the name)."""
    at = target.rfind("@")
    if at > 0:
        return target[:at], target[at + 1 :] or None
    return target, None


def enrich(
    target: Annotated[
        str | None,
        typer.Argument(
            help="NAME or NAME@VERSION (default: every version, of --ecosystem if given).",
            show_default=False,
        ),
    ] = None,
    ecosystem: Annotated[
        str | None,
        typer.Option("--ecosystem", "-e", help="pypi, npm, maven or docker."),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Upstream requests in flight.")
    ] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Enrich versions again from their upstream registries: facts, signals, the policy.

    A NAME needs --ecosystem. Exit status 0 (whatever the upstreams answered:
    the counts say it), 2 for an unknown package or bad arguments.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from foss_registry import wiring
    from foss_registry.db import read_connection, write_transaction
    from foss_registry.enrichment import service as enrichment

    if target is not None and ecosystem is None:
        raise fail("a NAME needs --ecosystem (pypi, npm, maven or docker)")
    eng = ready_engine()
    with domain_errors(), read_connection(eng) as conn:
        if target is not None:
            assert ecosystem is not None
            name, version = split_target(target)
            versions = enrichment.select_versions(conn, ecosystem, name, version)
        else:
            versions = enrichment.all_versions(conn, ecosystem)
    not_configured = enrichment.config().not_configured()
    if not_configured:
        err.print(
            "upstream not configured for " + ", ".join(not_configured)
            + " (set FOSS_UPSTREAM_<ECOSYSTEM>); their versions get the name checks only",
            highlight=False,
        )
    ids = [version_id for version_id, _ in versions]
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with bar:
        task = bar.add_task("asking upstream", total=len(ids))
        outcomes = enrichment.fetch_many(
            eng, ids, concurrency=concurrency, progress=lambda n: bar.advance(task, n)
        )
        stored = bar.add_task("storing", total=len(outcomes))
        for start in range(0, len(outcomes), BATCH):
            chunk = outcomes[start : start + BATCH]
            with write_transaction(eng) as conn:
                wiring.run_enrichments(
                    conn, [{"version_id": v, "outcome": outcome} for v, outcome in chunk]
                )
            bar.advance(stored, len(chunk))
    counts = Counter(outcome.status for _, outcome in outcomes)
    if as_json:
        out.print_json(json.dumps({"enriched": len(outcomes), "statuses": dict(counts)}))
        return
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do"
    err.print(f"{len(outcomes)} versions enriched: {summary}", highlight=False)
