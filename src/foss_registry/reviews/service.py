"""Record review decisions and list the review queue and history.

A decision sets the version's status and the matching ``approved_*`` or
``rejected_*`` fields; every decision, by a person or by the policy, stays in
the ``reviews`` table as the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, literal, select

from foss_registry import ecosystems
from foss_registry.db import update_rows, utcnow
from foss_registry.errors import ConflictError, FieldError, InvalidInputError
from foss_registry.packages import service as packages
from foss_registry.packages.models import package_versions as pv
from foss_registry.packages.records import PackageRecord, ReviewEntry
from foss_registry.packages.search import validate_status
from foss_registry.reviews.models import reviews
from foss_registry.reviews.records import QueueEntry, ReviewList, ReviewListItem, ReviewResult
from foss_registry.security import service as security
from foss_registry.vulns.open_findings import open_findings
from foss_registry.webhooks import events

DECISIONS = ("approve", "reject")
POLICY_ACTOR = "policy"
#: Scan statuses an approval is allowed on with a warning: there is no result yet.
UNCHECKED_SCAN_STATUSES = ("pending", "not_scanned")


class FindingsNotAcknowledgedError(ConflictError):
    """Approving past open findings (or an errored scan) without acknowledging them (409)."""

    code = "findings_not_acknowledged"


def approval_warnings(entry: ReviewEntry) -> list[str]:
    """What a person should know about an approval, from its history entry."""
    if entry.decision != "approve" or entry.scan_status not in UNCHECKED_SCAN_STATUSES:
        return []
    state = "still pending" if entry.scan_status == "pending" else "not_scanned"
    return [
        f"Approved while its scan is {state}: no vulnerability result has been seen yet. "
        "Findings of a later scan flag the version new_vulnerability, and foss check fails "
        "on those at high or above."
    ]


def decision_result(record: PackageRecord) -> ReviewResult:
    """The answer to a decision: its history entry (the record's newest) and the record."""
    last = record.reviews[-1]
    return ReviewResult(
        decision=last.decision,
        by=last.by,
        comment=last.comment,
        package=record,
        scan_status=last.scan_status,
        acknowledged=last.acknowledged,
        warnings=approval_warnings(last),
    )


def _check_findings(
    conn: Connection, version_id: int, *, acknowledge: bool
) -> tuple[str, list[str]]:
    """The scan status an approval is made on and the finding ids it acknowledges.

    Raises :class:`FindingsNotAcknowledgedError` when the newest scan has an open
    finding (``high`` or above, not triaged) or ended in ``error``, unless
    ``acknowledge``.
    """
    # Triaged findings carry their triage here, so they are not open.
    row = security.judged_scan(conn, version_id) or {}
    status = row.get("status", "not_scanned")
    found = open_findings(list(row.get("findings") or []))
    if (found or status == "error") and not acknowledge:
        listed = [{"id": f["id"], "severity": f.get("severity")} for f in found]
        what = ", ".join(f"{f['id']} ({f['severity']})" for f in listed)
        parts = []
        if found:
            parts.append(f"open findings at high or above: {what}")
        if status == "error":
            parts.append(f"its scan ended in error ({row.get('reason') or 'no reason given'})")
        raise FindingsNotAcknowledgedError(
            f"This version has {' and '.join(parts)}. Approve with "
            '"acknowledge_findings": true (foss review approve --acknowledge-findings) '
            "to approve past them, or reject it.",
            extra={"findings": listed, "scan_status": status},
        )
    return status, [str(f["id"]) for f in found]


def validate_decision(decision: str) -> str:
    """Return the decision lower-cased, or raise InvalidInputError."""
    value = decision.strip().lower() if isinstance(decision, str) else ""
    if value not in DECISIONS:
        raise InvalidInputError(
            f"Unknown decision {decision!r}; use 'approve' or 'reject'.",
            code="invalid_decision",
            errors=[FieldError("decision", "must be 'approve' or 'reject'")],
        )
    return value


@dataclass(frozen=True)
class NewDecision:
    """A decision to record on one version (see :func:`record_decision` for the fields)."""

    version_id: int
    decision: str
    by: str
    comment: str | None
    reasons: Sequence[str] = ()
    scan_status: str | None = None
    acknowledged: Sequence[str] = ()
    approved_by: str | None = None


def record_decision(
    conn: Connection,
    version_id: int,
    *,
    decision: str,
    by: str,
    comment: str | None,
    reasons: list[str] | None = None,
    scan_status: str | None = None,
    acknowledged: list[str] | None = None,
    approved_by: str | None = None,
) -> None:
    """Apply a decision to a version, keep it in the history and write its event.

    ``scan_status`` is the version's scan status the decision was made on,
    ``acknowledged`` the ids of the open findings an approval acknowledged.
    ``approved_by`` names who the approval is shown as by when it differs from
    ``by`` (a rule signs the history ``rule:<id>``; its author approved).
    """
    record_decisions(
        conn,
        [
            NewDecision(
                version_id,
                decision,
                by,
                comment,
                reasons or (),
                scan_status,
                acknowledged or (),
                approved_by,
            )
        ],
    )


#: The event each decision writes.
_EVENTS = {"approve": "package.approved", "reject": "package.rejected"}


def record_decisions(conn: Connection, decisions: Sequence[NewDecision]) -> None:
    """Record decisions on distinct versions (:func:`record_decision`), one statement per write.

    Every decision is checked before anything is written.
    """
    now = utcnow()
    # The versions' new values, grouped by the columns they set (one UPDATE each).
    changes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    history: list[dict[str, Any]] = []
    for entry in decisions:
        decision = validate_decision(entry.decision)
        comment = entry.comment
        if comment is not None and "\x00" in comment:
            raise InvalidInputError(
                "The comment contains a null byte.",
                errors=[FieldError("comment", "must not contain null bytes")],
            )
        comment = comment.strip() if comment else None
        if decision == "reject" and not comment:
            raise InvalidInputError(
                "A rejection needs a comment that tells the submitter why.",
                code="comment_required",
                errors=[FieldError("comment", "required when rejecting")],
            )
        if decision == "approve":
            values: dict[str, Any] = {
                "status": "approved",
                "approved_by": entry.approved_by or entry.by,
                "approved_at": now,
                "rejected_by": None,
                "rejected_at": None,
                "rejection_reason": None,
            }
        else:
            values = {
                "status": "rejected",
                "approved_by": None,
                "approved_at": None,
                "rejected_by": entry.by,
                "rejected_at": now,
                "rejection_reason": comment,
            }
        if entry.by != POLICY_ACTOR and entry.approved_by is None:
            # A person has looked: flags asking for a second look are settled.
            values["flags"] = []
        changes.setdefault(tuple(values), []).append({"id": entry.version_id} | values)
        history.append(
            {
                "version_id": entry.version_id,
                "decision": decision,
                "by": entry.by,
                "at": now,
                "comment": comment,
                "reasons": list(entry.reasons),
                "scan_status": entry.scan_status,
                "acknowledged": list(entry.acknowledged),
            }
        )
    if not history:
        return
    for rows in changes.values():
        update_rows(conn, pv, rows)
    conn.execute(reviews.insert(), history)
    events.emit_for_versions(
        conn,
        [(_EVENTS[h["decision"]], h["version_id"], {}) for h in history],
    )


def decide(
    conn: Connection,
    *,
    ecosystem: str,
    name: str,
    version: str,
    decision: str,
    by: str,
    comment: str | None,
    acknowledge_findings: bool = False,
) -> PackageRecord:
    """Decide on the version named by (ecosystem, name, version).

    Approving past open findings or an errored scan needs
    ``acknowledge_findings`` (see :func:`_check_findings`); rejecting needs none.
    The history entry records the scan status and what was acknowledged.
    """
    decision = validate_decision(decision)
    version_id = packages.select_version_id(conn, name, ecosystem=ecosystem, version=version)
    if decision == "approve":
        scan_status, acknowledged = _check_findings(
            conn, version_id, acknowledge=acknowledge_findings
        )
    else:
        row = security.judged_scan(conn, version_id)
        scan_status, acknowledged = (row["status"] if row is not None else "not_scanned"), []
    record_decision(
        conn,
        version_id,
        decision=decision,
        by=by,
        comment=comment,
        scan_status=scan_status,
        acknowledged=acknowledged,
    )
    return packages.get_record_by_id(conn, version_id)


def list_reviews(
    conn: Connection,
    *,
    status: str | None = None,
    ecosystem: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> ReviewList:
    """List the review queue and history, newest decision first.

    Versions with no decision yet appear as queue entries (``decision`` null);
    ``status`` filters on the version's current status, so ``status=pending``
    is the queue.
    """
    filters = []
    status = validate_status(status)
    if status is not None:
        filters.append(pv.c.status == status)
    if ecosystem is not None:
        try:
            filters.append(pv.c.ecosystem == ecosystems.get(ecosystem).name)
        except InvalidInputError as exc:
            if not exc.errors:
                exc.errors = [FieldError("ecosystem", exc.detail)]
            raise
    where = and_(literal(True), *filters)
    joined = pv.outerjoin(reviews, reviews.c.version_id == pv.c.id)
    total = conn.execute(select(func.count()).select_from(joined).where(where)).scalar_one()
    rows = conn.execute(
        select(
            pv.c.name,
            pv.c.version,
            pv.c.ecosystem,
            pv.c.status,
            pv.c.license,
            pv.c.submitted_by,
            pv.c.submitted_at,
            pv.c.flags,
            reviews.c.id.label("review_id"),
            reviews.c.decision,
            reviews.c.by,
            reviews.c.at,
            reviews.c.comment,
            reviews.c.reasons,
            reviews.c.scan_status,
            reviews.c.acknowledged,
        )
        .select_from(joined)
        .where(where)
        .order_by(func.coalesce(reviews.c.at, pv.c.submitted_at).desc(), pv.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return ReviewList(
        reviews=[
            ReviewListItem(
                name=r.name,
                version=r.version,
                ecosystem=r.ecosystem,
                status=r.status,
                license=r.license,
                submitted_by=r.submitted_by,
                submitted_at=packages.iso(r.submitted_at) or "",  # never null
                flags=list(r.flags or []),
                decision=r.decision,
                by=r.by,
                at=packages.iso(r.at),
                comment=r.comment,
                reasons=list(r.reasons or []),
                scan_status=r.scan_status,
                acknowledged=list(r.acknowledged or []),
            )
            for r in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


def pending_queue(
    conn: Connection, *, ecosystem: str | None = None, limit: int = 50, offset: int = 0
) -> list[QueueEntry]:
    """Pending versions, oldest submission first (read through the queue's indexes).

    Returns up to ``limit`` entries; ask for one more than a page to know
    whether another page follows (counting every pending version would read
    them all).
    """
    query = select(
        pv.c.name,
        pv.c.version,
        pv.c.ecosystem,
        pv.c.license,
        pv.c.submitted_by,
        pv.c.submitted_at,
        pv.c.flags,
    ).where(pv.c.status == "pending")
    if ecosystem is not None:
        try:
            query = query.where(pv.c.ecosystem == ecosystems.get(ecosystem).name)
        except InvalidInputError as exc:
            if not exc.errors:
                exc.errors = [FieldError("ecosystem", exc.detail)]
            raise
    rows = conn.execute(
        query.order_by(pv.c.submitted_at, pv.c.id).limit(limit).offset(offset)
    ).all()
    return [
        QueueEntry(
            name=r.name,
            version=r.version,
            ecosystem=r.ecosystem,
            license=r.license,
            submitted_by=r.submitted_by,
            submitted_at=packages.iso(r.submitted_at) or "",  # never null
            flags=list(r.flags or []),
        )
        for r in rows
    ]
