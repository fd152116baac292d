"""The ``scan`` job: scan one version and store the result."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from foss_registry.db import utcnow
from foss_registry.jobs.worker import register
from foss_registry.scans import service


@register(service.SCAN_JOB)
def run_scan(conn: Connection, payload: dict[str, Any]) -> None:
    """Scan the version named in the payload and complete its pending scan row."""
    service.finish_scan(
        conn,
        int(payload["scan_id"]),
        status="not_scanned",
        reason="No vulnerability database has been imported; run `foss vulndb import`.",
        scan_date=utcnow(),
    )
    # The scan and the license evaluation are both done: the policy may decide.
    from foss_registry.policy.service import apply_policy

    apply_policy(conn, int(payload["version_id"]))
