"""Scanning one package version: the built-in OSV matcher, and external scanners for images.

PyPI, npm and Maven versions are matched against the vulnerability database
(``vulns.service.candidate_records`` narrows by package in SQL, then
``vulns.matcher`` decides per version). Docker images are not in OSV: they are
scanned by the external tools that are installed (Trivy, Grype, osv-scanner);
with none installed the image is ``not_scanned``, never ``passed``.

A scan ends ``passed``, ``failed`` (a finding at or above the configured
threshold, of unknown severity, or a malicious release), ``not_scanned`` with
the reason (no data for the ecosystem, no image scanner), or ``error`` with
the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select

from foss_registry import ecosystems
from foss_registry.config import Settings
from foss_registry.db import update_rows, utcnow
from foss_registry.packages.models import package_versions as pv
from foss_registry.scans.models import scans
from foss_registry.vulns import service as vulndb
from foss_registry.vulns.findings import (
    Finding,
    finding_from_record,
    merge_by_alias,
    severity_counts,
    version_sorter,
)
from foss_registry.vulns.matcher import CompiledRecord, matching_records
from foss_registry.vulns.scanners import SCANNERS, ExternalScanner, ScannerError
from foss_registry.vulns.severity import fails

log = logging.getLogger("foss_registry.scans")

__all__ = [
    "BUILTIN_TOOL",
    "ExternalResult",
    "ScanConfig",
    "ScanOutcome",
    "complete_scan",
    "complete_scans",
    "decide",
    "diff_findings",
    "evaluate",
    "image_ref",
    "match_version",
    "run_image_scanners",
    "scan_version",
]

#: The name ``tools_used`` gives the registry's own matcher.
BUILTIN_TOOL = "foss-registry-osv-matcher"


@dataclass(frozen=True)
class ScanConfig:
    """What a scan needs from the settings: the fail threshold and the external scanners."""

    fail_severity: str = "low"
    scanners: tuple[ExternalScanner, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> ScanConfig:
        """Build the configuration from ``FOSS_SCAN_FAIL_SEVERITY`` and the scanner settings."""
        paths = {
            "trivy": settings.trivy_path,
            "grype": settings.grype_path,
            "osv-scanner": settings.osv_scanner_path,
        }
        # FOSS_SCANNERS is validated with the settings: only known names reach here.
        wanted = [name for name in settings.scanners.split(",") if name]
        scanners = tuple(
            SCANNERS[name](paths.get(name), timeout=settings.scanner_timeout_seconds)
            for name in wanted
        )
        return cls(fail_severity=settings.scan_fail_severity, scanners=scanners)


@dataclass
class ExternalResult:
    """What the external scanners found in one image, and which ran, failed or are missing."""

    tools_used: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScanOutcome:
    """The result of scanning one version, ready to store."""

    status: str
    reason: str | None
    findings: tuple[Finding, ...] = ()
    tools_used: tuple[str, ...] = ()
    database_updated_at: datetime | None = None


def image_ref(normalized_name: str, version: str) -> str:
    """The reference a scanner pulls: ``repo:tag`` or ``repo@sha256:...``."""
    separator = "@" if version.lower().startswith("sha256:") else ":"
    return f"{normalized_name}{separator}{version}"


def run_image_scanners(ref: str, scanners: Sequence[ExternalScanner]) -> ExternalResult:
    """Run every installed scanner on the image; tools that are missing or fail are noted.

    This is slow (a pull and a scan) and touches no database: the job runs it
    before its write transaction.
    """
    result = ExternalResult()
    for scanner in scanners:
        if not scanner.available():
            result.missing.append(scanner.name)
            continue
        try:
            found = scanner.scan_image(ref)
        except ScannerError as exc:
            log.warning("image scan of %s with %s failed: %s", ref, scanner.name, exc)
            result.errors.append(str(exc).splitlines()[0][:300])
            continue
        result.tools_used.append(scanner.name)
        result.findings.extend(found)
    return result


def match_version(
    candidates: Iterable[CompiledRecord], ecosystem: str, normalized_name: str, version: str
) -> list[Finding]:
    """Match one version against candidate records: one finding per alias group."""
    eco = ecosystems.get(ecosystem)
    raw = [
        finding_from_record(record, entries, eco)
        for record, entries in matching_records(candidates, eco, normalized_name, version)
    ]
    return merge_by_alias(raw, sort_versions=version_sorter(eco))


def decide(findings: Sequence[Finding], threshold: str) -> tuple[str, str | None]:
    """``failed`` with the reason when a finding fails the threshold, else ``passed``.

    A malicious release fails at any threshold, and so does a finding of
    unknown severity (silence is not evidence of safety).
    """
    failing = [f for f in findings if f.malicious or fails(f.severity, threshold)]
    if not failing:
        if findings:
            return "passed", (
                f"{len(findings)} finding(s), all below the fail threshold {threshold!r}."
            )
        return "passed", None
    malicious = [f.id for f in failing if f.malicious]
    if malicious:
        return "failed", f"Malicious release: {', '.join(malicious)}."
    shown = ", ".join(f"{f.id} ({f.severity})" for f in failing[:10])
    more = f" and {len(failing) - 10} more" if len(failing) > 10 else ""
    return "failed", (
        f"{len(failing)} finding(s) at or above {threshold!r} or of unknown severity: "
        f"{shown}{more}."
    )


def _missing_data_reason(ecosystem: str) -> str:
    osv_name = ecosystems.get(ecosystem).osv_name or ecosystem
    return (
        f"The vulnerability database holds no {osv_name} advisories, so this version could "
        "not be checked; an admin imports them with `foss vulndb import` or `foss vulndb sync`."
    )


def evaluate(
    ecosystem: str,
    normalized_name: str,
    version: str,
    config: ScanConfig,
    *,
    state: vulndb.DatabaseState | None,
    candidates: Iterable[CompiledRecord],
    external: ExternalResult | None = None,
) -> ScanOutcome:
    """Decide one version's scan from what was read for it (no database access).

    ``state`` is the freshness of the ecosystem's data (None: no data at all)
    and ``candidates`` the advisories indexed under the package. For Docker
    images, ``external`` is the result of :func:`run_image_scanners` when the
    caller ran them already (outside its transaction); else they run here.
    """
    if ecosystem == "docker":
        if external is None:
            external = run_image_scanners(image_ref(normalized_name, version), config.scanners)
        return _image_outcome(external, config)
    if state is None:
        return ScanOutcome("not_scanned", _missing_data_reason(ecosystem))
    findings = match_version(candidates, ecosystem, normalized_name, version)
    status, reason = decide(findings, config.fail_severity)
    return ScanOutcome(status, reason, tuple(findings), (BUILTIN_TOOL,), state.newest_modified)


def scan_version(
    conn: Connection,
    ecosystem: str,
    normalized_name: str,
    version: str,
    config: ScanConfig,
    *,
    external: ExternalResult | None = None,
) -> ScanOutcome:
    """Scan one version in the caller's transaction and return the outcome (nothing stored)."""
    state = vulndb.database_state(conn, ecosystem)
    candidates = (
        vulndb.candidate_records(conn, ecosystem, normalized_name)
        if state is not None and ecosystem != "docker"
        else []
    )
    return evaluate(
        ecosystem,
        normalized_name,
        version,
        config,
        state=state,
        candidates=candidates,
        external=external,
    )


def _image_outcome(external: ExternalResult, config: ScanConfig) -> ScanOutcome:
    if not external.tools_used:
        if external.errors:
            return ScanOutcome("error", "Every image scanner failed: " + "; ".join(external.errors))
        tried = ", ".join(s.name for s in config.scanners) or "none configured"
        return ScanOutcome(
            "not_scanned",
            "No image scanner is available to scan this Docker image "
            f"(looked for: {tried}); install Trivy, Grype or osv-scanner on the worker's PATH "
            "or set FOSS_TRIVY_PATH, FOSS_GRYPE_PATH or FOSS_OSV_SCANNER_PATH.",
        )
    findings = merge_by_alias(external.findings)
    status, reason = decide(findings, config.fail_severity)
    if external.errors:
        failed = "; ".join(external.errors)
        reason = f"{reason} Also: {failed}." if reason else f"Partly scanned: {failed}."
    return ScanOutcome(status, reason, tuple(findings), tuple(external.tools_used))


def _group_key(item: dict[str, Any]) -> tuple[Any, Any]:
    return item.get("package"), item.get("package_version")


def diff_findings(
    previous: Sequence[dict[str, Any]], current: Sequence[Finding], previous_status: str
) -> dict[str, Any]:
    """What changed since the previous completed scan: finding ids added, removed, changed.

    Findings are compared by alias group (any shared id), so a record that
    arrives under a new id for a known vulnerability is not reported as new.
    """
    before = [(_group_key(p), {p["id"], *p.get("aliases", [])}, p) for p in previous]
    now = [(_group_key(f.to_dict()), set(f.all_ids), f) for f in current]
    added: list[str] = []
    changed: list[str] = []
    for key, ids, finding in now:
        match = next((p for k, i, p in before if k == key and i & ids), None)
        if match is None:
            added.append(finding.id)
        elif (
            match.get("severity") != finding.severity
            or list(match.get("fixed_versions", [])) != list(finding.fixed_versions)
            or bool(match.get("malicious")) != finding.malicious
        ):
            changed.append(finding.id)
    removed = [
        p["id"] for key, ids, p in before if not any(k == key and i & ids for k, i, _ in now)
    ]
    return {
        "previous_status": previous_status,
        "added": added,
        "removed": removed,
        "changed": changed,
    }


# Statements built once: a re-scan runs them for every batch of versions.
_SCAN_ROWS = (
    select(
        scans.c.id,
        scans.c.version_id,
        scans.c.status,
        pv.c.ecosystem,
        pv.c.normalized_name,
        pv.c.version,
    )
    .join(pv, pv.c.id == scans.c.version_id)
    .where(scans.c.id.in_(bindparam("ids", expanding=True)))
)
_NEWEST_SCANS = (
    select(scans.c.version_id, func.max(scans.c.id).label("newest"))
    .where(scans.c.version_id.in_(bindparam("versions", expanding=True)))
    .group_by(scans.c.version_id)
)
_PREVIOUS_IDS = (
    select(func.max(scans.c.id))
    .where(
        scans.c.version_id.in_(bindparam("versions", expanding=True)),
        scans.c.status != "pending",
    )
    .group_by(scans.c.version_id)
)
_PREVIOUS = select(scans.c.version_id, scans.c.status, scans.c.findings).where(
    scans.c.id.in_(bindparam("ids", expanding=True))
)
def pending_image_scan(conn: Connection, scan_id: int) -> tuple[str, str] | None:
    """The (normalised name, version) of a pending, current scan of a Docker image, else None.

    The job reads this before its transaction to run the external scanners.
    """
    row = conn.execute(_SCAN_ROWS, {"ids": [scan_id]}).first()
    if row is None or row.status != "pending" or row.ecosystem != "docker":
        return None
    newest = conn.execute(_NEWEST_SCANS, {"versions": [row.version_id]}).first()
    if newest is not None and newest.newest > scan_id:
        return None
    return row.normalized_name, row.version


def complete_scans(
    conn: Connection,
    scan_ids: Sequence[int],
    config: ScanConfig,
    *,
    external: dict[int, ExternalResult] | None = None,
) -> list[int]:
    """Run pending scans and store their outcomes; return the ids of the versions scanned.

    Everything is read for the whole batch in a few statements. A scan already
    completed (a retried job) is left alone. A pending scan with a newer scan
    of the same version is dropped: the newer one was queued after the data
    that caused it had been committed, so it alone gives the current answer.
    ``external`` maps scan ids to the image scanners' results already obtained.
    """
    rows = [r for r in conn.execute(_SCAN_ROWS, {"ids": list(scan_ids)}) if r.status == "pending"]
    if not rows:
        return []
    current = _drop_superseded(conn, rows)
    states = vulndb.database_states(conn)
    candidates = vulndb.candidates_for(
        conn,
        {
            (r.ecosystem, r.normalized_name)
            for r in current
            if r.ecosystem != "docker" and r.ecosystem in states
        },
    )
    previous = _previous_scans(conn, sorted({r.version_id for r in rows}))
    now = utcnow()
    updates: list[dict[str, Any]] = []
    for row in current:
        try:
            outcome = evaluate(
                row.ecosystem,
                row.normalized_name,
                row.version,
                config,
                state=states.get(row.ecosystem),
                candidates=candidates.get((row.ecosystem, row.normalized_name), []),
                external=(external or {}).get(row.id),
            )
        except Exception as exc:
            log.exception("scan %s of version %s failed", row.id, row.version_id)
            outcome = ScanOutcome("error", f"The scan failed: {type(exc).__name__}: {exc}"[:1000])
        updates.append(_finished_row(row.id, outcome, previous.get(row.version_id), now))
    update_rows(conn, scans, updates)
    return [row.version_id for row in current]


def _drop_superseded(conn: Connection, rows: list[Any]) -> list[Any]:
    """Delete the pending scans a newer scan of the same version replaces; return the others."""
    versions = sorted({r.version_id for r in rows})
    newest = {r.version_id: r.newest for r in conn.execute(_NEWEST_SCANS, {"versions": versions})}
    superseded = [r.id for r in rows if newest[r.version_id] > r.id]
    if superseded:
        conn.execute(delete(scans).where(scans.c.id.in_(superseded)))
    return [r for r in rows if newest[r.version_id] == r.id]


def _previous_scans(conn: Connection, versions: list[int]) -> dict[int, Any]:
    """Each version's previous finished scan (its findings and status), by version id."""
    previous_ids = list(conn.execute(_PREVIOUS_IDS, {"versions": versions}).scalars())
    if not previous_ids:
        return {}
    return {r.version_id: r for r in conn.execute(_PREVIOUS, {"ids": previous_ids})}


def _finished_row(scan_id: int, outcome: ScanOutcome, before: Any, now: datetime) -> dict[str, Any]:
    """The values stored for one finished scan, its changes since ``before`` included."""
    return {
        "id": scan_id,
        "status": outcome.status,
        "reason": outcome.reason,
        "scan_date": now,
        "tools_used": list(outcome.tools_used),
        "findings": [f.to_dict() for f in outcome.findings],
        "severity": severity_counts(outcome.findings),
        "database_updated_at": outcome.database_updated_at,
        "changes": None
        if before is None
        else diff_findings(list(before.findings or []), outcome.findings, before.status),
    }


def complete_scan(
    conn: Connection, scan_id: int, config: ScanConfig, *, external: ExternalResult | None = None
) -> int | None:
    """Run one pending scan (see :func:`complete_scans`); the version's id, or None if dropped."""
    done = complete_scans(
        conn, [scan_id], config, external=None if external is None else {scan_id: external}
    )
    return done[0] if done else None
