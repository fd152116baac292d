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
from sqlalchemy import Connection, select, update

from foss_registry.config import get_settings
from foss_registry.db import utcnow
from foss_registry.enrichment.models import upstream_records
from foss_registry.enrichment.service import relevel_signals
from foss_registry.enrichment.service import state as enrichment_state
from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.jobs import queue
from foss_registry.packages.models import package_versions as pv
from foss_registry.policy.models import policy_documents
from foss_registry.policy.rules import (
    LicensePolicy,
    ScanStatus,
    ScanSummary,
    decide,
    default_policy,
    evaluate_license,
)
from foss_registry.reviews.models import reviews
from foss_registry.reviews.service import (
    POLICY_ACTOR,
    UNCHECKED_SCAN_STATUSES,
    record_decision,
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
class PolicyInForce:
    """The license policy being applied, whether it auto-approves, and where it came from."""

    policy: LicensePolicy
    auto_approve: bool
    source: str
    updated_at: datetime | None = None
    updated_by: str | None = None
    signals: SignalPolicy = field(default_factory=SignalPolicy)

    def to_dict(self) -> dict[str, Any]:
        """The API shape of ``GET /policy``."""
        return {
            "auto_approve": self.auto_approve,
            **self.policy.to_dict(),
            "signals": self.signals.to_dict(),
            "source": self.source,
            "updated_at": self.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            if self.updated_at
            else None,
            "updated_by": self.updated_by,
        }


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


def current_policy(conn: Connection) -> PolicyInForce:
    """Return the policy in force (database document, else file, else default)."""
    row = conn.execute(
        select(policy_documents).order_by(policy_documents.c.id.desc()).limit(1)
    ).first()
    if row is not None and row.document is not None:
        policy, auto, signals = parse_document(row.document, source="the stored policy")
        return PolicyInForce(policy, auto, "api", row.created_at, row.created_by, signals)
    path = get_settings().policy_file
    if path is not None:
        policy, auto, signals = file_policy(Path(path))
        return PolicyInForce(policy, auto, f"file:{path}", signals=signals)
    return PolicyInForce(default_policy(), False, "default")


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
    return current_policy(conn)


def _scan_summary(conn: Connection, version_id: int) -> tuple[ScanSummary, Any] | None:
    row = conn.execute(
        select(scans.c.status, scans.c.findings, scans.c.changes)
        .where(scans.c.version_id == version_id)
        .order_by(scans.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    # Triaged findings do not count (triage.matching): the scan is judged on the rest.
    triaged = matching.apply(
        list(row.findings or []),
        triage.decisions_for_version(conn, version_id),
        status=row.status,
        reason=None,
        threshold=get_settings().scan_fail_severity,
    )
    findings = [f for f in triaged.findings if f["triage"] is None]
    malicious = tuple(f["id"] for f in findings if f.get("malicious"))
    levels = [f.get("severity") for f in findings]
    order = ["critical", "high", "medium", "low", "unknown"]
    worst = next((lvl for lvl in order if lvl in levels), None)
    return ScanSummary(ScanStatus(triaged.status), malicious, worst), row.changes


#: Enrichment states in which the upstream's signals are not known yet: a rule waits.
_SIGNALS_UNKNOWN = ("pending", "unavailable")


def _approve_by_rule(
    conn: Connection,
    version_id: int,
    evaluation: Any,
    scan: ScanSummary,
    signals: Sequence[Signal],
    enrichment: str,
    rule_id: int | None = None,
) -> bool:
    """Approve a pending version that a live rule covers, when everything else allows it.

    Only with a passed scan, a license the policy approves, and no signal at
    ``review`` or ``block``. Until the enrichment job has stored the version's
    signals (typosquatting is checked even with no upstream configured), the
    rule waits: that job applies the policy again.
    """
    if scan.status != "passed" or scan.malicious_ids:
        return False
    if not evaluation.declared or evaluation.status.value != "approved":
        return False
    if enrichment in _SIGNALS_UNKNOWN or any(s.level in ("review", "block") for s in signals):
        return False
    stored = conn.execute(
        select(upstream_records.c.version_id).where(upstream_records.c.version_id == version_id)
    ).first()
    if stored is None:
        return False
    rule = rules.rule_for_version(conn, version_id, rule_id=rule_id)
    if rule is None:
        return False
    reasons = [
        f"inside approval rule {rule.id} ({rule.range}) by {rule.created_by}",
        f"license {evaluation.expression} is approved by policy",
        "the scan passed",
    ]
    record_decision(
        conn,
        version_id,
        decision="approve",
        by=f"{rules.ACTOR_PREFIX}{rule.id}",
        approved_by=rule.created_by,
        comment="; ".join(reasons),
        reasons=reasons,
    )
    return True


def apply_rule_to_existing(conn: Connection, rule_id: int) -> list[int]:
    """Apply a new rule once to the pending versions in its range; return the ones approved."""
    return [
        version_id
        for version_id in rules.pending_versions(conn, rule_id)
        if apply_policy(conn, version_id, rule_id=rule_id)
    ]


def reevaluate_versions(conn: Connection, version_ids: list[int]) -> None:
    """Apply the policy again to some versions (after a triage decision changed their scan)."""
    in_force = current_policy(conn)
    for version_id in version_ids:
        apply_policy(conn, version_id, in_force)


def apply_policy(
    conn: Connection,
    version_id: int,
    in_force: PolicyInForce | None = None,
    *,
    rule_id: int | None = None,
) -> bool:
    """Let the policy decide a version no person has decided; otherwise only flag it.

    Runs when the version's scan has finished. A decision is recorded in the
    review history as made by ``policy`` with every reason; a version the
    policy leaves pending keeps the reasons in ``policy_reasons``, unless a
    live approval rule covers it (``rule_id``: that rule, applied to existing
    versions). Returns whether an approval rule approved the version.
    """
    in_force = in_force or current_policy(conn)
    version = conn.execute(
        select(pv.c.status, pv.c.license, pv.c.flags).where(pv.c.id == version_id)
    ).one()
    summary = _scan_summary(conn, version_id)
    if summary is None or summary[0].status == "pending":
        return False
    scan, changes = summary
    evaluation = evaluate_license(in_force.policy, version.license)
    history = conn.execute(
        select(reviews.c.by, reviews.c.scan_status)
        .where(reviews.c.version_id == version_id)
        .order_by(reviews.c.id)
    ).all()
    people = [h for h in history if h.by != POLICY_ACTOR]
    by_person = bool(people)
    enrichment, enrichment_reason, signals = enrichment_state(conn, version_id)
    # The levels of the policy in force, also for signals stored under an earlier one.
    signals = relevel_signals(conn, version_id, signals, in_force.signals)
    outcome = decide(
        evaluation,
        scan,
        in_force.auto_approve,
        decided_by_person=by_person,
        signals=signals,
        enrichment=enrichment,
        enrichment_reason=enrichment_reason,
    )
    flags = set(version.flags or [])
    if by_person:
        flags.update(outcome.flags)
        added = (changes or {}).get("added") if isinstance(changes, dict) else None
        # Approved before any result was seen: every finding of the scan is new to the approver.
        unseen = people[-1].scan_status in UNCHECKED_SCAN_STATUSES
        if version.status == "approved" and scan.status == "failed" and (added or unseen):
            flags.add(FLAG_NEW_VULNERABILITY)
        if flags != set(version.flags or []):
            conn.execute(update(pv).where(pv.c.id == version_id).values(flags=sorted(flags)))
            events.emit_for_version(
                conn, "package.flagged", version_id, flags=sorted(flags - set(version.flags or []))
            )
        return False
    reasons = list(outcome.reasons)
    conn.execute(update(pv).where(pv.c.id == version_id).values(policy_reasons=reasons))
    if outcome.decision is None:
        if version.status == "pending":
            return _approve_by_rule(
                conn, version_id, evaluation, scan, signals, enrichment, rule_id
            )
        return False
    target = "approved" if outcome.decision.value == "approve" else "rejected"
    if version.status == target:
        return False
    record_decision(
        conn,
        version_id,
        decision=outcome.decision.value,
        by=POLICY_ACTOR,
        comment="; ".join(reasons),
        reasons=reasons,
        scan_status=scan.status,
    )
    return False


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
    for version_id in ids:
        apply_policy(conn, version_id, in_force)
