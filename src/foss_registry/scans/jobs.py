"""The scan jobs: ``scan`` (one version, as submitted) and ``scan-batch`` (re-scans).

Both run in the worker's write transaction, which also completes the job. A
Docker image's external scanners can take minutes, so for a ``scan`` job they
run first, in :func:`prepare_scan`, with no transaction open.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from foss_registry.config import get_settings
from foss_registry.db import read_connection
from foss_registry.jobs.worker import register
from foss_registry.policy import service as policy
from foss_registry.scans import scanner, service


def _config() -> scanner.ScanConfig:
    # Read per job, not cached here: the worker process's own FOSS_ settings decide.
    return scanner.ScanConfig.from_settings(get_settings())


def prepare_scan(engine: Engine, payload: dict[str, Any]) -> dict[str, Any]:
    """Run the external scanners of a pending Docker image scan, outside any transaction."""
    with read_connection(engine) as conn:
        image = scanner.pending_image_scan(conn, int(payload["scan_id"]))
    if image is None:
        return {}
    config = _config()
    return {"external": scanner.run_image_scanners(scanner.image_ref(*image), config.scanners)}


def scan_job_parked(conn: Connection, payload: dict[str, Any], error: str, attempts: int) -> None:
    """A scan job given up: its scans that are still pending end in ``error``.

    The policy then looks at each version again; it never approves one whose
    scan ended in an error.
    """
    scan_ids = [int(i) for i in payload.get("scan_ids", [payload.get("scan_id")]) if i is not None]
    for version_id in service.fail_scans(conn, scan_ids, error=error, attempts=attempts):
        policy.apply_policy(conn, version_id)


@register(service.SCAN_JOB, prepare=prepare_scan, parked=scan_job_parked)
def run_scan(conn: Connection, payload: dict[str, Any]) -> None:
    """Scan the version named in the payload, complete its scan row, let the policy decide."""
    version_id = scanner.complete_scan(
        conn, int(payload["scan_id"]), _config(), external=payload.get("external")
    )
    if version_id is not None:
        # The scan and the license evaluation are both done: the policy may decide.
        policy.apply_policy(conn, version_id)


@register(service.SCAN_BATCH_JOB, parked=scan_job_parked)
def run_scan_batch(conn: Connection, payload: dict[str, Any]) -> None:
    """Complete a batch of pending scans (the re-scans an import queued) in one transaction.

    The policy then looks at each re-scanned version: it flags an approved one
    that a new advisory now fails, and decides those no person has decided.
    """
    version_ids = scanner.complete_scans(conn, [int(i) for i in payload["scan_ids"]], _config())
    if version_ids:
        in_force = policy.current_policy(conn)
        for version_id in version_ids:
            policy.apply_policy(conn, version_id, in_force)
