"""The scan jobs' work: ``scan`` (one version, as submitted) and ``scan-batch`` (re-scans).

The worker claims ``scan`` jobs in batches and runs them through
:func:`run_scans`, so that the scans of a burst of submissions share their
reads. Both run in the worker's write transaction, which also completes the job. A
Docker image's external scanners can take minutes, so for a ``scan`` job they
run first, in :func:`prepare_scan`, with no transaction open. Each returns the
versions whose scan finished, for the policy to decide
(:mod:`foss_registry.wiring` joins the two).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from foss_registry.config import get_settings
from foss_registry.db import read_connection
from foss_registry.scans import scanner


def _config() -> scanner.ScanConfig:
    # Read per job, not cached here: the worker process's own FOSS_ settings decide.
    return scanner.ScanConfig.from_settings(get_settings())


def prepare_scan(engine: Engine, payload: dict[str, Any]) -> dict[str, Any]:
    """Run the external scanners of a pending Docker image scan, outside any transaction."""
    if payload.get("image") is False:  # jobs queued before the flag existed do not say
        return {}
    with read_connection(engine) as conn:
        image = scanner.pending_image_scan(conn, int(payload["scan_id"]))
    if image is None:
        return {}
    config = _config()
    return {"external": scanner.run_image_scanners(scanner.image_ref(*image), config.scanners)}


def run_scan(conn: Connection, payload: dict[str, Any]) -> int | None:
    """Scan the version named in the payload and complete its scan row; return its id if done."""
    return scanner.complete_scan(
        conn, int(payload["scan_id"]), _config(), external=payload.get("external")
    )


def run_scans(conn: Connection, payloads: Sequence[dict[str, Any]]) -> list[int]:
    """Scan the versions of many ``scan`` jobs together (one read of their advisories).

    Returns the ids of the versions whose scan finished.
    """
    external = {int(p["scan_id"]): p["external"] for p in payloads if p.get("external") is not None}
    scan_ids = [int(p["scan_id"]) for p in payloads]
    return scanner.complete_scans(conn, scan_ids, _config(), external=external)


def run_scan_batch(conn: Connection, payload: dict[str, Any]) -> list[int]:
    """Complete a batch of pending scans (the re-scans an import queued) in one transaction.

    Returns the ids of the versions re-scanned.
    """
    return scanner.complete_scans(conn, [int(i) for i in payload["scan_ids"]], _config())
