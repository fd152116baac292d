"""Record review decisions and list the review queue and history.

A decision sets the version's status and the matching ``approved_*`` or
``rejected_*`` fields; every decision, by a person or by the policy, stays in
the ``reviews`` table as the history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, literal, select, update

from foss_registry import ecosystems
from foss_registry.db import utcnow
from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.packages import service as packages
from foss_registry.packages.models import package_versions as pv
from foss_registry.packages.search import validate_status
from foss_registry.reviews.models import reviews

DECISIONS = ("approve", "reject")
POLICY_ACTOR = "policy"


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


def record_decision(
    conn: Connection,
    version_id: int,
    *,
    decision: str,
    by: str,
    comment: str | None,
    reasons: list[str] | None = None,
) -> None:
    """Apply a decision to a version and keep it in the history."""
    decision = validate_decision(decision)
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
    now = utcnow()
    if decision == "approve":
        values = {
            "status": "approved",
            "approved_by": by,
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
            "rejected_by": by,
            "rejected_at": now,
            "rejection_reason": comment,
        }
    if by != POLICY_ACTOR:
        # A person has looked: flags asking for a second look are settled.
        values["flags"] = []
    conn.execute(update(pv).where(pv.c.id == version_id).values(**values))
    conn.execute(
        reviews.insert().values(
            version_id=version_id,
            decision=decision,
            by=by,
            at=now,
            comment=comment,
            reasons=reasons or [],
        )
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
) -> dict[str, Any]:
    """Decide on the version named by (ecosystem, name, version)."""
    decision = validate_decision(decision)
    version_id = packages.select_version_id(conn, name, ecosystem=ecosystem, version=version)
    record_decision(conn, version_id, decision=decision, by=by, comment=comment)
    return packages.get_record_by_id(conn, version_id)


def list_reviews(
    conn: Connection,
    *,
    status: str | None = None,
    ecosystem: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
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
        )
        .select_from(joined)
        .where(where)
        .order_by(func.coalesce(reviews.c.at, pv.c.submitted_at).desc(), pv.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return {
        "reviews": [
            {
                "name": r.name,
                "version": r.version,
                "ecosystem": r.ecosystem,
                "status": r.status,
                "license": r.license,
                "submitted_by": r.submitted_by,
                "submitted_at": packages.iso(r.submitted_at),
                "flags": list(r.flags or []),
                "decision": r.decision,
                "by": r.by,
                "at": packages.iso(r.at),
                "comment": r.comment,
                "reasons": list(r.reasons or []),
            }
            for r in rows
        ],
        "total": total,
        "limit": limit,
        "offset": offset,
    }
