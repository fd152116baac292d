"""The policy in force, its changes through the admin API, and applying it to versions.

The policy in force is, in order: the newest document set through the admin
API, else the file named by ``FOSS_POLICY_FILE``, else the packaged default.
It is read from the database on every use (no process-local cache that another
server process's change would leave stale). A policy document is the policy
file's content as data: ``{"auto_approve": bool, "categories": {...},
"licenses": {...}, "signals": {...}}``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, bindparam, func, select

from foss_registry.config import get_settings
from foss_registry.db import update_rows, utcnow
from foss_registry.enrichment import service as enrichment
from foss_registry.enrichment.service import EnrichmentState
from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.jobs import queue
from foss_registry.licenses import (
    Category,
    License,
    LicenseInfo,
    LicenseList,
    license_list,
    license_record,
    list_licenses,
)
from foss_registry.packages.models import package_versions as pv
from foss_registry.policy.models import policy_documents
from foss_registry.policy.records import PolicyInForce
from foss_registry.policy.rules import (
    LicensePolicy,
    ScanStatus,
    ScanSummary,
    Status,
    decide,
    default_policy,
    evaluate_license,
    license_status,
)
from foss_registry.reviews.models import reviews
from foss_registry.reviews.service import (
    POLICY_ACTOR,
    UNCHECKED_SCAN_STATUSES,
    NewDecision,
    record_decisions,
)
from foss_registry.rules import service as rules
from foss_registry.scans.models import scans
from foss_registry.signals.rules import Signal, SignalPolicy
from foss_registry.triage import matching
from foss_registry.triage import service as triage
from foss_registry.webhooks import events

REEVALUATE_JOB = "policy-reevaluate"
FLAG_NEW_VULNERABILITY = "new_vulnerability"


@dataclass(frozen=True)
class ActivePolicy:
    """The license policy being applied, whether it auto-approves, and where it came from."""

    policy: LicensePolicy
    auto_approve: bool
    source: str
    updated_at: datetime | None = None
    updated_by: str | None = None
    signals: SignalPolicy = field(default_factory=SignalPolicy)

    def record(self) -> PolicyInForce:
        """The record ``/policy`` answers."""
        rules = self.policy.to_dict()
        return PolicyInForce(
            auto_approve=self.auto_approve,
            categories=rules["categories"],
            licenses=rules["licenses"],
            signals=self.signals.to_dict(),
            source=self.source,
            updated_at=self.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ") if self.updated_at else None,
            updated_by=self.updated_by,
        )


def parse_document(data: Any, *, source: str) -> tuple[LicensePolicy, bool, SignalPolicy]:
    """Validate a policy document into (policy, auto_approve, signals); 400 on any problem."""
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"The policy in {source} must be a table/object.", code="invalid_policy"
        )
    rest = dict(data)
    auto = rest.pop("auto_approve", False)
    signals = SignalPolicy.from_dict(rest.pop("signals", None), source=source)
    if not isinstance(auto, bool):
        raise InvalidInputError(
            f"auto_approve in {source} must be true or false.",
            code="invalid_policy",
            errors=[FieldError("auto_approve", "must be a boolean")],
        )
    return LicensePolicy.from_dict(rest, source=source), auto, signals


@cache
def _load_file(path: str, mtime: float) -> tuple[LicensePolicy, bool, SignalPolicy]:
    # Keyed by modification time so an edited file is read again.
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) if path.endswith((".yaml", ".yml")) else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise InvalidInputError(
            f"The policy file {path} cannot be parsed: {exc}".replace("\n", " "),
            code="invalid_policy",
        ) from None
    return parse_document(data, source=path)


def file_policy(path: Path) -> tuple[LicensePolicy, bool, SignalPolicy]:
    """Read a policy file (TOML, or YAML by extension); 400-style error if invalid."""
    if not path.is_file():
        raise InvalidInputError(f"The policy file {path} does not exist.", code="invalid_policy")
    return _load_file(str(path), path.stat().st_mtime)


def current_policy(conn: Connection) -> ActivePolicy:
    """Return the policy in force (database document, else file, else default)."""
    row = conn.execute(
        select(policy_documents).order_by(policy_documents.c.id.desc()).limit(1)
    ).first()
    if row is not None and row.document is not None:
        policy, auto, signals = parse_document(row.document, source="the stored policy")
        return ActivePolicy(policy, auto, "api", row.created_at, row.created_by, signals)
    path = get_settings().policy_file
    if path is not None:
        policy, auto, signals = file_policy(Path(path))
        return ActivePolicy(policy, auto, f"file:{path}", signals=signals)
    return ActivePolicy(default_policy(), False, "default")


def policy_record(conn: Connection) -> PolicyInForce:
    """The policy in force as ``GET /policy`` answers it."""
    return current_policy(conn).record()


def license_page(
    conn: Connection,
    *,
    category: Category | None = None,
    status: Status | None = None,
    limit: int = 100,
    offset: int = 0,
) -> LicenseList:
    """A page of the license catalog with each license's status under the policy in force."""
    in_force = current_policy(conn).policy
    return license_list(
        list_licenses(category),
        lambda license_id: license_status(in_force, license_id).value,
        status=None if status is None else status.value,
        limit=limit,
        offset=offset,
    )


def license_info(conn: Connection, lic: License) -> LicenseInfo:
    """One license's facts and its status under the policy in force."""
    return license_record(lic, license_status(current_policy(conn).policy, lic.id).value)


def set_policy(conn: Connection, document: dict[str, Any] | None, *, by: str) -> PolicyInForce:
    """Store a new policy document (None reverts to file/default) and queue re-evaluation."""
    if document is not None:
        policy, auto, signals = parse_document(document, source="the request body")
        # Store the normalised form, so ids read back as the policy understood them.
        document = {"auto_approve": auto, **policy.to_dict(), "signals": signals.to_dict()}
    conn.execute(
        policy_documents.insert().values(document=document, created_by=by, created_at=utcnow())
    )
    queue.enqueue(conn, REEVALUATE_JOB, {})
    return policy_record(conn)


def _scan_summary(row: Any, decisions: list[matching.Decision], threshold: str) -> ScanSummary:
    """A version's newest scan (``row``) as the policy judges it, its triaged findings left out."""
    triaged = matching.apply(
        list(row.findings or []), decisions, status=row.status, reason=None, threshold=threshold
    )
    findings = [f for f in triaged.findings if f["triage"] is None]
    malicious = tuple(f["id"] for f in findings if f.get("malicious"))
    levels = [f.get("severity") for f in findings]
    order = ["critical", "high", "medium", "low", "unknown"]
    worst = next((lvl for lvl in order if lvl in levels), None)
    return ScanSummary(ScanStatus(triaged.status), malicious, worst)


#: Enrichment states in which the upstream's signals are not known yet: a rule waits.
_SIGNALS_UNKNOWN = ("pending", "unavailable")


def _rule_may_approve(
    evaluation: Any, scan: ScanSummary, signals: Sequence[Signal], enrichment: EnrichmentState
) -> bool:
    """Whether a live rule covering a pending version may approve it: everything else allows it.

    Only with a passed scan, a license the policy approves, and no signal at
    ``review`` or ``block``. Until the enrichment job has stored the version's
    signals (typosquatting is checked even with no upstream configured), the
    rule waits: that job applies the policy again.
    """
    if scan.status != "passed" or scan.malicious_ids:
        return False
    if not evaluation.declared or evaluation.status.value != "approved":
        return False
    if enrichment.status in _SIGNALS_UNKNOWN or any(
        s.level in ("review", "block") for s in signals
    ):
        return False
    return enrichment.stored


def apply_rule_to_existing(conn: Connection, rule_id: int) -> list[int]:
    """Apply a new rule once to the pending versions in its range; return the ones approved."""
    return apply_policy_many(conn, rules.pending_versions(conn, rule_id), rule_id=rule_id)


def reevaluate_versions(conn: Connection, version_ids: list[int]) -> None:
    """Apply the policy again to some versions (after a triage decision changed their scan)."""
    apply_policy_many(conn, version_ids)


def apply_policy(
    conn: Connection,
    version_id: int,
    in_force: ActivePolicy | None = None,
    *,
    rule_id: int | None = None,
) -> bool:
    """Let the policy decide one version (see :func:`apply_policy_many`).

    Returns whether an approval rule approved the version.
    """
    return bool(apply_policy_many(conn, [version_id], in_force, rule_id=rule_id))


#: Versions decided together: each statement reads or writes at most this many.
CHUNK = 500

_VERSIONS = select(
    pv.c.id,
    pv.c.status,
    pv.c.license,
    pv.c.flags,
    pv.c.ecosystem,
    pv.c.normalized_name,
    pv.c.version,
    pv.c.submitted_at,
).where(pv.c.id.in_(bindparam("ids", expanding=True)))
_NEWEST_SCANS = select(scans.c.version_id, scans.c.status, scans.c.findings, scans.c.changes).where(
    scans.c.id.in_(
        select(func.max(scans.c.id))
        .where(scans.c.version_id.in_(bindparam("ids", expanding=True)))
        .group_by(scans.c.version_id)
    )
)
# The decisions people made, oldest first (the policy's own do not count).
_PEOPLE = (
    select(reviews.c.version_id, reviews.c.scan_status)
    .where(
        reviews.c.version_id.in_(bindparam("ids", expanding=True)),
        reviews.c.by != POLICY_ACTOR,
    )
    .order_by(reviews.c.id)
)


def apply_policy_many(
    conn: Connection,
    version_ids: Sequence[int],
    in_force: ActivePolicy | None = None,
    *,
    rule_id: int | None = None,
) -> list[int]:
    """Let the policy decide the versions no person has decided; otherwise only flag them.

    Runs when a version's scan has finished (a version whose newest scan is
    pending, or that is gone, is left alone). A decision is recorded in the
    review history as made by ``policy`` with every reason; a version the
    policy leaves pending keeps the reasons in ``policy_reasons``, unless a
    live approval rule covers it (``rule_id``: that rule, applied to existing
    versions). Returns the ids of the versions an approval rule approved.

    Each version is decided on its own facts, which no other version's decision
    changes; so the versions are read a few statements per :data:`CHUNK` of
    them, and written a statement per kind of write.
    """
    in_force = in_force or current_policy(conn)
    ids = list(dict.fromkeys(version_ids))
    approved: list[int] = []
    for start in range(0, len(ids), CHUNK):
        approved.extend(_apply_chunk(conn, ids[start : start + CHUNK], in_force, rule_id))
    return approved


def _apply_chunk(
    conn: Connection, ids: list[int], in_force: ActivePolicy, rule_id: int | None
) -> list[int]:
    versions = {row.id: row for row in conn.execute(_VERSIONS, {"ids": ids})}
    newest = {row.version_id: row for row in conn.execute(_NEWEST_SCANS, {"ids": ids})}
    live = triage.live_for_packages(
        conn, {(v.ecosystem, v.normalized_name) for v in versions.values()}
    )
    threshold = get_settings().scan_fail_severity
    summaries: dict[int, ScanSummary] = {}
    for version_id in ids:
        version, row = versions.get(version_id), newest.get(version_id)
        if version is None or row is None:
            continue
        # Triaged findings do not count (triage.matching): the scan is judged on the rest.
        entries = live.get((version.ecosystem, version.normalized_name), [])
        scan = _scan_summary(row, triage.decisions_for(entries, version.version), threshold)
        if scan.status != "pending":
            summaries[version_id] = scan
    if not summaries:
        return []
    decided = list(summaries)
    people: dict[int, list[Any]] = {}
    for person in conn.execute(_PEOPLE, {"ids": decided}):
        people.setdefault(person.version_id, []).append(person)
    enriched = enrichment.states(conn, decided)
    # The levels of the policy in force, also for signals stored under an earlier one.
    signals = enrichment.relevel_many(
        conn, {v: enriched[v].signals for v in decided}, in_force.signals
    )
    flags: list[dict[str, Any]] = []
    flagged: list[tuple[str, int, dict[str, Any]]] = []
    reasons: list[dict[str, Any]] = []
    decisions: list[NewDecision] = []
    by_rule: list[tuple[rules.VersionInRule, str | None]] = []
    for version_id, scan in summaries.items():
        version, state = versions[version_id], enriched[version_id]
        evaluation = evaluate_license(in_force.policy, version.license)
        by_person = people.get(version_id, [])
        outcome = decide(
            evaluation,
            scan,
            in_force.auto_approve,
            decided_by_person=bool(by_person),
            signals=signals[version_id],
            enrichment=state.status,
            enrichment_reason=state.reason,
        )
        before = set(version.flags or [])
        if by_person:
            after = before | set(outcome.flags)
            changes = newest[version_id].changes
            added = changes.get("added") if isinstance(changes, dict) else None
            # Approved before any result was seen: every finding of the scan is new to the approver.
            unseen = by_person[-1].scan_status in UNCHECKED_SCAN_STATUSES
            if version.status == "approved" and scan.status == "failed" and (added or unseen):
                after.add(FLAG_NEW_VULNERABILITY)
            if after != before:
                flags.append({"id": version_id, "flags": sorted(after)})
                flagged.append(("package.flagged", version_id, {"flags": sorted(after - before)}))
            continue
        why = list(outcome.reasons)
        reasons.append({"id": version_id, "policy_reasons": why})
        if outcome.decision is None:
            if version.status == "pending" and _rule_may_approve(
                evaluation, scan, signals[version_id], state
            ):
                covered = rules.VersionInRule(
                    version_id,
                    version.ecosystem,
                    version.normalized_name,
                    version.version,
                    version.submitted_at,
                )
                by_rule.append((covered, evaluation.expression))
            continue
        target = "approved" if outcome.decision.value == "approve" else "rejected"
        if version.status != target:
            decisions.append(
                NewDecision(
                    version_id,
                    outcome.decision.value,
                    POLICY_ACTOR,
                    "; ".join(why),
                    why,
                    scan_status=scan.status,
                )
            )
    update_rows(conn, pv, flags)
    events.emit_for_versions(conn, flagged)
    update_rows(conn, pv, reasons)
    found = rules.rules_for_versions(conn, [v for v, _ in by_rule], rule_id=rule_id)
    approved: list[int] = []
    for covered, expression in by_rule:
        rule = found.get(covered.id)
        if rule is None:
            continue
        because = [
            f"inside approval rule {rule.id} ({rule.range}) by {rule.created_by}",
            f"license {expression} is approved by policy",
            "the scan passed",
        ]
        decisions.append(
            NewDecision(
                covered.id,
                "approve",
                f"{rules.ACTOR_PREFIX}{rule.id}",
                "; ".join(because),
                because,
                approved_by=rule.created_by,
            )
        )
        approved.append(covered.id)
    # In the order the versions were given, as when they were decided one by one.
    order = {version_id: n for n, version_id in enumerate(ids)}
    record_decisions(conn, sorted(decisions, key=lambda d: order[d.version_id]))
    return approved


def reevaluate_all(conn: Connection, _payload: dict[str, Any]) -> None:
    """Apply the policy in force again to every pending and approved version."""
    in_force = current_policy(conn)
    ids = (
        conn.execute(
            select(pv.c.id).where(pv.c.status.in_(("pending", "approved"))).order_by(pv.c.id)
        )
        .scalars()
        .all()
    )
    apply_policy_many(conn, ids, in_force)
