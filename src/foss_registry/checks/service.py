"""Answer ``POST /api/v1/check``: the registry's view of a batch of dependencies.

For each dependency the answer gives the registry status (``approved``,
``pending``, ``rejected``, or ``unknown`` when that version was never
submitted), the nearest approved version when this one is not approved, the
latest scan's status and worst severity, and the license with the policy's
status for it.

Decisions (documented in the README):

* **Matching** uses the ecosystem's normalised name and canonical version
  (``packages.service.identify``), so ``Flask==1.0`` finds ``flask 1.0.0``.
* **Invalid entries** (unknown ecosystem, a name or version the ecosystem
  refuses) do not fail the batch: one odd line in a lockfile must not hide the
  verdict on the other thousand. Each is answered ``unknown`` with the reason in
  ``note``. Only a body of the wrong shape is a 400.
* **No version** (an unpinned requirement) is ``unknown`` with a note;
  ``nearest_approved`` is then the highest approved version.
* **Nearest approved** is the highest approved version at or below the one
  asked for, else the lowest approved version above it, by the ecosystem's
  ordering (Docker tags that are not versions: the latest approved by
  submission). It is null when the version asked for is itself approved.
* **Findings** of the latest scan are listed with whether the version's
  approval acknowledged them (``acknowledged``) and whether a triage decision
  covers them (``triaged``); with the version's ``flags`` they let the gate
  fail an approved version with an open finding (``foss_registry.gate``), and
  ``verdict`` is the default gate's verdict.

Lookups are batched: one query per ecosystem and chunk of names (``IN`` on the
indexed normalised name), one for the latest scans; never one per dependency.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Connection, Text, func, or_, select, type_coerce

from foss_registry import ecosystems
from foss_registry.checks.records import CheckResponse
from foss_registry.config import get_settings
from foss_registry.enrichment.models import upstream_records
from foss_registry.errors import DomainError
from foss_registry.gate import REGISTRY_STATUSES, GateOptions, is_failure, verdict
from foss_registry.packages.models import package_versions as pv
from foss_registry.policy import rules
from foss_registry.policy.service import current_policy
from foss_registry.reviews.models import reviews
from foss_registry.scans.models import scans
from foss_registry.scans.service import empty_counts
from foss_registry.triage import matching
from foss_registry.triage import service as triage
from foss_registry.triage.openvex import VexStatement, product_key
from foss_registry.vulns.open_findings import finding_ids, is_triaged
from foss_registry.vulns.severity import worst_level

# Names per query: keeps the bound parameters far below every backend's limit.
_CHUNK = 500


@dataclass(frozen=True)
class CheckItem:
    """One dependency to look up; ``version`` is None for an unpinned one."""

    name: str
    version: str | None
    ecosystem: str


@dataclass(frozen=True)
class _Key:
    """A dependency in the registry's terms, once it has been validated."""

    ecosystem: str
    normalized: str
    #: None when no version was given or it is invalid.
    canonical: str | None

    def sort_token(self, version: str | None) -> str | None:
        """The order token of the version asked for (computed only when a suggestion is due)."""
        if self.canonical is None or version is None:
            return None
        return ecosystems.get(self.ecosystem).sort_token(version)


@dataclass(frozen=True)
class ApprovedVersion:
    """An approved version as the nearest-approved choice sees it."""

    sort_token: str
    id: int
    version: str


def nearest_approved(
    requested_token: str | None, approved: Sequence[ApprovedVersion]
) -> str | None:
    """Return the approved version nearest to the one asked for, or None if none is approved.

    The highest approved version whose order token is at or below
    ``requested_token``, else the lowest above it; with no token (no version
    or an invalid one) the highest approved. Equal tokens (Docker tags that
    are not versions) are ordered by id, that is by submission.
    """
    if not approved:
        return None
    if requested_token is None:
        return max(approved, key=lambda a: (a.sort_token, a.id)).version
    below = [a for a in approved if a.sort_token <= requested_token]
    if below:
        return max(below, key=lambda a: (a.sort_token, a.id)).version
    return min(approved, key=lambda a: (a.sort_token, a.id)).version


def worst_severity(counts: dict[str, int] | None) -> str | None:
    """Return the worst level with a finding in severity counts, or None for no finding.

    ``unknown`` only when every finding is of unknown severity (as the scans
    report it); the ``severity`` counts say whether any unknown one exists.
    """
    if not counts:
        return None
    present = [level for level, n in counts.items() if isinstance(n, int) and n > 0]
    return worst_level(present) if present else None


def summarize(dependencies: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Count dependencies per registry status, with ``total``, and the default gate's result.

    ``failing`` counts the dependencies whose ``verdict`` fails the default gate
    (``foss check`` without options); ``result`` is then ``failed`` or ``passed``.
    """
    summary: dict[str, Any] = {"total": 0} | dict.fromkeys(REGISTRY_STATUSES, 0)
    failing = 0
    for dep in dependencies:
        summary["total"] += 1
        summary[dep["status"]] += 1
        failing += is_failure(dep["verdict"], _DEFAULT_GATE)
    return summary | {"failing": failing, "result": "failed" if failing else "passed"}


_DEFAULT_GATE = GateOptions()


def findings_of(
    findings: Sequence[dict[str, Any]], acknowledged: Iterable[str]
) -> list[dict[str, Any]]:
    """The gate's view of a scan's findings: id, aliases, severity, acknowledged, triaged."""
    known = set(acknowledged)
    return [
        {
            "id": f.get("id"),
            "aliases": list(f.get("aliases") or []),
            "severity": f.get("severity"),
            "acknowledged": bool(known & finding_ids(f)),
            "triaged": is_triaged(f),
        }
        for f in findings
    ]


def _identify(item: CheckItem) -> tuple[_Key | None, str | None]:
    """Validate one item; return its key (None if unusable) and a note on what is wrong."""
    try:
        eco = ecosystems.get(item.ecosystem)
        normalized = eco.normalize_name(item.name)
    except DomainError as exc:
        return None, exc.detail
    if item.version is None:
        return _Key(eco.name, normalized, None), "no version given"
    try:
        canonical = eco.canonical_version(item.version)
    except DomainError as exc:
        # The name is still good: the nearest approved version can be suggested.
        return _Key(eco.name, normalized, None), exc.detail
    return _Key(eco.name, normalized, canonical), None


def _chunks(values: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _load_versions(
    conn: Connection, keys: Iterable[_Key]
) -> tuple[dict[tuple[str, str, str], Any], dict[tuple[str, str], list[ApprovedVersion]]]:
    """Return the exact matches and the approved versions of each package.

    One query per ecosystem and chunk of names; each returns the approved
    versions of those packages and the rows whose canonical version was asked
    for (a superset, filtered in Python).
    """
    wanted: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for key in keys:
        versions = wanted[key.ecosystem][key.normalized]
        if key.canonical is not None:
            versions.add(key.canonical)
    exact: dict[tuple[str, str, str], Any] = {}
    approved: dict[tuple[str, str], list[ApprovedVersion]] = defaultdict(list)
    for eco, by_name in wanted.items():
        names = sorted(by_name)
        for chunk in _chunks(names):
            canonicals = sorted({v for n in chunk for v in by_name[n]})
            condition = pv.c.status == "approved"
            if canonicals:
                condition = or_(condition, pv.c.canonical_version.in_(canonicals))
            rows = conn.execute(
                select(
                    pv.c.id,
                    pv.c.normalized_name,
                    pv.c.canonical_version,
                    pv.c.version,
                    pv.c.status,
                    pv.c.sort_token,
                    pv.c.license,
                    # Raw text: decoding every row's JSON would dominate a large check.
                    type_coerce(pv.c.flags, Text).label("flags"),
                ).where(pv.c.ecosystem == eco, pv.c.normalized_name.in_(chunk), condition)
            ).all()
            for row in rows:
                if row.canonical_version in by_name[row.normalized_name]:
                    exact[(eco, row.normalized_name, row.canonical_version)] = row
                if row.status == "approved":
                    approved[(eco, row.normalized_name)].append(
                        ApprovedVersion(row.sort_token, row.id, row.version)
                    )
    return exact, approved


def _other_versions_known(
    conn: Connection, missing: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Return which (ecosystem, normalised name) pairs have some version in the registry."""
    by_eco: dict[str, set[str]] = defaultdict(set)
    for eco, name in missing:
        by_eco[eco].add(name)
    known: set[tuple[str, str]] = set()
    for eco, names in by_eco.items():
        for chunk in _chunks(sorted(names)):
            found = conn.execute(
                select(pv.c.normalized_name)
                .where(pv.c.ecosystem == eco, pv.c.normalized_name.in_(chunk))
                .distinct()
            ).scalars()
            known.update((eco, n) for n in found)
    return known


def _latest_scans(conn: Connection, version_ids: Sequence[int]) -> dict[int, Any]:
    """Return the newest scan row (status, severity, findings) of each version that has one."""
    latest: dict[int, Any] = {}
    ids = sorted(set(version_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        newest = (
            select(func.max(scans.c.id))
            .where(scans.c.version_id.in_(chunk))
            .group_by(scans.c.version_id)
            .scalar_subquery()
        )
        for row in conn.execute(
            select(scans.c.version_id, scans.c.status, scans.c.severity, scans.c.findings).where(
                scans.c.id.in_(newest)
            )
        ):
            latest[row.version_id] = row
    return latest


def _acknowledged(conn: Connection, version_ids: Sequence[int]) -> dict[int, list[str]]:
    """The finding ids the newest approval of each version acknowledged (when it did)."""
    found: dict[int, list[str]] = {}
    ids = sorted(set(version_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        newest = (
            select(func.max(reviews.c.id))
            .where(reviews.c.version_id.in_(chunk), reviews.c.decision == "approve")
            .group_by(reviews.c.version_id)
            .scalar_subquery()
        )
        for row in conn.execute(
            select(reviews.c.version_id, reviews.c.acknowledged).where(reviews.c.id.in_(newest))
        ):
            found[row.version_id] = [str(a) for a in row.acknowledged or []]
    return found


def _block_signals(conn: Connection, version_ids: Sequence[int]) -> dict[int, list[str]]:
    """The ``block``-level risk signals of each version that has some, as ``code: message``."""
    found: dict[int, list[str]] = {}
    ids = sorted(set(version_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = conn.execute(
            select(upstream_records.c.version_id, upstream_records.c.signals).where(
                upstream_records.c.version_id.in_(chunk)
            )
        )
        for row in rows:
            signals = json.loads(row.signals) if isinstance(row.signals, str) else row.signals
            blocking = [
                f"{s['code']}: {s['message']}" for s in signals or [] if s.get("level") == "block"
            ]
            if blocking:
                found[row.version_id] = blocking
    return found


def _note(flags: list[str], blocking: list[str]) -> str | None:
    parts = [f"flagged for review: {', '.join(flags)}"] if flags else []
    if blocking:
        parts.append("block-level signals: " + "; ".join(blocking))
    return "; ".join(parts) or None


def _vex_decisions(
    statements: Sequence[VexStatement], ecosystem: str, normalized: str, canonical: str
) -> list[matching.Decision]:
    """The statements of a VEX file about one version, as decisions (one per name or alias)."""
    out = []
    for statement in statements:
        keys = [product_key(p) for p in statement.products]
        if not any(
            k is not None
            and (k.ecosystem, k.normalized_name) == (ecosystem, normalized)
            and k.canonical_version in (None, canonical)
            for k in keys
        ):
            continue
        for name in (statement.vulnerability, *statement.aliases):
            out.append(
                matching.Decision(
                    0, name, statement.status, statement.justification, None, None, "vex"
                )
            )
    return out


def _judged_scans(
    conn: Connection,
    exact: dict[tuple[str, str, str], Any],
    latest: dict[int, Any],
    vex: Sequence[VexStatement],
) -> dict[int, matching.TriagedScan]:
    """The scans a live triage decision or a VEX statement covers, judged without them.

    Each finding then shows its ``triage``; the other scans are used as stored.
    """
    live = triage.live_for_packages(conn, {(e, n) for e, n, _ in exact})
    threshold = get_settings().scan_fail_severity
    judged: dict[int, matching.TriagedScan] = {}
    for (eco, normalized, canonical), row in exact.items():
        scan = latest.get(row.id)
        if scan is None or not scan.findings:
            continue
        found = triage.decisions_for(live.get((eco, normalized), []), row.version)
        if vex:
            found += _vex_decisions(vex, eco, normalized, canonical)
        if found:
            judged[row.id] = matching.apply(
                list(scan.findings), found, status=scan.status, reason=None, threshold=threshold
            )
    return judged


def _flags(raw: Any) -> list[str]:
    """Return a version's flags from the raw column value (text on SQLite, a list elsewhere)."""
    if isinstance(raw, str):
        raw = json.loads(raw) if raw not in ("", "[]") else []
    return [str(flag) for flag in raw or []]


def _unknown(item: CheckItem, note: str | None, nearest: str | None) -> dict[str, Any]:
    return {
        "name": item.name,
        "version": item.version,
        "ecosystem": item.ecosystem.strip().lower() if isinstance(item.ecosystem, str) else "",
        "status": "unknown",
        "nearest_approved": nearest,
        "scan_status": None,
        "worst_severity": None,
        "severity": None,
        "license": None,
        "license_status": None,
        "note": note,
        "flags": [],
        "findings": [],
    }


def check(
    conn: Connection,
    items: Sequence[CheckItem],
    policy: rules.LicensePolicy,
    vex: Sequence[VexStatement] = (),
) -> CheckResponse:
    """Look up every item and return the dependencies' results and their summary.

    The answer keeps the request's order; names and versions are echoed as sent.
    Findings covered by a live triage decision or one of the ``vex`` statements
    are shown ``triaged`` and do not count in ``scan_status``, ``severity`` or the
    verdict.
    """
    identified = [_identify(item) for item in items]
    found = _Found.load(conn, [key for key, _ in identified if key is not None], policy, vex)
    results: list[dict[str, Any]] = []
    for item, (key, problem) in zip(items, identified, strict=True):
        if key is None:
            results.append(_unknown(item, problem, None))
            continue
        row = (
            None
            if key.canonical is None
            else found.exact.get((key.ecosystem, key.normalized, key.canonical))
        )
        results.append(
            found.not_stored(item, key, problem) if row is None else found.stored(item, key, row)
        )
    for item, result in zip(items, results, strict=True):
        result["verdict"] = verdict(result, pinned=item.version is not None, options=_DEFAULT_GATE)
    # The results are built as the mappings the shared gate (``gate.py``, which
    # the client runs on the JSON) judges; the typed answer is made of them once.
    return msgspec.convert({"dependencies": results, "summary": summarize(results)}, CheckResponse)


@dataclass(frozen=True)
class _Found:
    """What the registry holds about the checked packages, read in a few queries."""

    exact: dict[tuple[str, str, str], Any]
    approved: dict[tuple[str, str], list[ApprovedVersion]]
    known_names: set[tuple[str, str]]
    latest: dict[int, Any]
    acknowledged: dict[int, list[str]]
    blocked: dict[int, list[str]]
    judged: dict[int, matching.TriagedScan]
    license_status: Callable[[str | None], str]

    @classmethod
    def load(
        cls,
        conn: Connection,
        keys: Sequence[_Key],
        policy: rules.LicensePolicy,
        vex: Sequence[VexStatement],
    ) -> _Found:
        """Read the versions asked for, their packages' approved versions, scans and signals."""
        exact, approved = _load_versions(conn, keys)
        missing = {
            (key.ecosystem, key.normalized)
            for key in keys
            if key.canonical is None or (key.ecosystem, key.normalized, key.canonical) not in exact
        }
        unapproved_names = {m for m in missing if m not in approved}
        found_ids = [row.id for row in exact.values()]
        latest = _latest_scans(conn, found_ids)
        with_findings = [
            row.id
            for row in exact.values()
            if row.status == "approved" and row.id in latest and latest[row.id].findings
        ]
        return cls(
            exact=exact,
            approved=approved,
            known_names=set(approved) | _other_versions_known(conn, unapproved_names),
            latest=latest,
            acknowledged=_acknowledged(conn, with_findings),
            blocked=_block_signals(conn, found_ids),
            judged=_judged_scans(conn, exact, latest, vex),
            license_status=_license_judge(policy),
        )

    def not_stored(self, item: CheckItem, key: _Key, problem: str | None) -> dict[str, Any]:
        """The answer for a version the registry does not hold, with the nearest approved."""
        package = (key.ecosystem, key.normalized)
        nearest = nearest_approved(key.sort_token(item.version), self.approved.get(package, []))
        if problem is None:
            problem = (
                "this version was never submitted; other versions are in the registry"
                if package in self.known_names
                else "never submitted to the registry"
            )
        return _unknown(item, problem, nearest) | {"ecosystem": key.ecosystem}

    def stored(self, item: CheckItem, key: _Key, row: Any) -> dict[str, Any]:
        """The answer for a stored version: status, scan as it counts now, license, flags."""
        scan = self.latest.get(row.id)
        counts = None if scan is None else empty_counts() | dict(scan.severity or {})
        scan_status = "not_scanned" if scan is None else scan.status
        findings = [] if scan is None else list(scan.findings or [])
        if row.id in self.judged:
            counts = empty_counts() | self.judged[row.id].severity
            scan_status = self.judged[row.id].status
            findings = self.judged[row.id].findings
        flags = _flags(row.flags)
        candidates = self.approved.get((key.ecosystem, key.normalized), [])
        return {
            "name": item.name,
            "version": item.version,
            "ecosystem": key.ecosystem,
            "status": row.status,
            "nearest_approved": None
            if row.status == "approved"
            else nearest_approved(key.sort_token(item.version), candidates),
            "scan_status": scan_status,
            "worst_severity": worst_severity(counts),
            "severity": counts,
            "license": row.license,
            "license_status": self.license_status(row.license),
            "note": _note(flags, self.blocked.get(row.id, [])),
            "flags": flags,
            "findings": findings_of(findings, self.acknowledged.get(row.id, [])),
        }


def _license_judge(policy: rules.LicensePolicy) -> Callable[[str | None], str]:
    """Return a function giving the policy status of an expression, cached per call.

    A lockfile repeats the same few licenses; evaluating each once keeps a
    thousand lookups cheap.
    """
    cache: dict[str | None, str] = {}

    def judge(expression: str | None) -> str:
        if expression not in cache:
            cache[expression] = rules.evaluate_license(policy, expression).status.value
        return cache[expression]

    return judge


def policy_in_force(conn: Connection) -> rules.LicensePolicy:
    """Return the license policy that ``license_status`` is judged by: the one in force."""
    return current_policy(conn).policy
