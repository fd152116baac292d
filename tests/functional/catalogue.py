"""Factories for registry contents used by the gate and export tests: versions, decisions, scans."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from foss_registry.db import utcnow, write_transaction
from foss_registry.intake.service import submit_package
from foss_registry.packages.service import Submission, select_version_id
from foss_registry.reviews.service import record_decision
from foss_registry.scans.models import scans


def add_version(
    engine: Engine,
    ecosystem: str,
    name: str,
    version: str,
    status: str = "approved",
    *,
    license: str | None = "MIT",
    severity: dict[str, int] | None = None,
    acknowledge: bool = False,
) -> None:
    """Submit a version as alice, decide it as rita, and optionally record a finished scan.

    With ``acknowledge`` the approval acknowledges the scan's findings, as a
    reviewer who approved with ``acknowledge_findings`` did.
    """
    counts = {"critical": 0, "high": 0, "medium": 0, "low": 0, "unknown": 0} | (severity or {})
    ids = [f"GHSA-test-{level}-{i}" for level, n in counts.items() for i in range(n)]
    with write_transaction(engine) as conn:
        submit_package(conn, Submission(name, version, ecosystem, license=license), "alice")
        version_id = select_version_id(conn, name, ecosystem=ecosystem, version=version)
        if status != "pending":
            record_decision(
                conn,
                version_id,
                decision="approve" if status == "approved" else "reject",
                by="rita",
                comment=None if status == "approved" else "known to be unsafe",
                acknowledged=ids if acknowledge else [],
            )
        if severity is not None:
            findings: list[dict[str, Any]] = [
                {
                    "id": f"GHSA-test-{level}-{i}",
                    "aliases": [],
                    "summary": f"a {level} test advisory",
                    "severity": level,
                    "cvss": None,
                    "fixed_versions": [],
                    "references": [],
                    "malicious": False,
                }
                for level, n in counts.items()
                for i in range(n)
            ]
            # A newer scan row than the one the submission queued: the latest one.
            conn.execute(
                scans.insert().values(
                    version_id=version_id,
                    status="failed" if findings else "passed",
                    scan_date=utcnow(),
                    tools_used=["osv"],
                    findings=findings,
                    severity=counts,
                    trigger="rescan",
                    created_at=utcnow(),
                )
            )


def standard_catalogue(engine: Engine) -> None:
    """A small registry: approved, pending and rejected versions in each ecosystem."""
    add_version(engine, "pypi", "requests", "2.31.0", license="Apache-2.0")
    add_version(engine, "pypi", "Flask", "2.3.0", license="BSD-3-Clause")
    add_version(engine, "pypi", "Flask", "3.0.0", "pending", license="BSD-3-Clause")
    add_version(engine, "pypi", "urllib3", "1.26.0", "rejected", license="MIT")
    # Approved knowing its high finding: the gate passes it unless --fail-on-severity says no.
    add_version(
        engine, "pypi", "urllib3", "2.2.1", license="MIT", severity={"high": 1}, acknowledge=True
    )
    add_version(engine, "npm", "@babel/core", "7.24.0", license="MIT")
    add_version(
        engine, "maven", "org.apache.logging.log4j:log4j-core", "2.17.1", license="Apache-2.0"
    )
    add_version(engine, "docker", "nginx", "1.25.3", license=None)
