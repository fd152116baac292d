"""Create, list and end approval rules; find the live rule a new version falls in.

A rule is live from its creation until it is ended or its ``expires_at``
passes. It concerns versions submitted after it was created, and once, when
created with ``apply_to_existing``, the versions pending then. Whether a
version in a rule is approved is the policy's call (``policy.service``): only
with a passed scan, a license the policy approves and no signal at ``review``
or ``block``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, or_, select, update

from foss_registry import ecosystems
from foss_registry.db import utcnow
from foss_registry.errors import FieldError, InvalidInputError, NotFoundError
from foss_registry.packages.models import package_versions as pv
from foss_registry.packages.records import iso
from foss_registry.packages.service import future_expiry, identify_package
from foss_registry.rules.models import approval_rules
from foss_registry.rules.records import ApprovalRule

#: How a rule signs the review history: ``rule:<id>``.
ACTOR_PREFIX = "rule:"


def _shown(row: Any) -> ApprovalRule:
    expired = row.expires_at is not None and row.expires_at <= utcnow()
    return ApprovalRule(
        id=row.id,
        ecosystem=row.ecosystem,
        name=row.name,
        range=row.range,
        comment=row.comment,
        apply_to_existing=bool(row.apply_to_existing),
        expires_at=iso(row.expires_at),
        created_by=row.created_by,
        created_at=iso(row.created_at),
        ended_by=row.ended_by,
        ended_at=iso(row.ended_at),
        live=row.ended_at is None and not expired,
    )


def _live(now: datetime) -> Any:
    return and_(
        approval_rules.c.ended_at.is_(None),
        or_(approval_rules.c.expires_at.is_(None), approval_rules.c.expires_at > now),
    )


def create(
    conn: Connection,
    *,
    ecosystem: str,
    name: str,
    range_text: str,
    comment: str | None,
    expires_at: datetime | None,
    apply_to_existing: bool,
    by: str,
) -> ApprovalRule:
    """Validate and store a rule (the range normalised); 400 naming the field when invalid."""
    eco, display, normalized = identify_package(ecosystem, name)
    normalized_range = eco.normalize_range(range_text)
    if comment is not None and "\x00" in comment:
        raise InvalidInputError(
            "comment must not contain null bytes.",
            errors=[FieldError("comment", "must not contain null bytes")],
        )
    values = {
        "ecosystem": eco.name,
        "name": display,
        "normalized_name": normalized,
        "range": normalized_range,
        "comment": comment.strip() if comment else None,
        "apply_to_existing": apply_to_existing,
        "created_by": by,
        "created_at": utcnow(),
        "expires_at": future_expiry(expires_at),
    }
    new_id = conn.execute(
        approval_rules.insert().values(**values).returning(approval_rules.c.id)
    ).scalar_one()
    return get(conn, new_id)


def get(conn: Connection, rule_id: int) -> ApprovalRule:
    """One rule, live or not."""
    row = conn.execute(select(approval_rules).where(approval_rules.c.id == rule_id)).first()
    if row is None:
        raise NotFoundError(f"No approval rule with id {rule_id}.", code="rule_not_found")
    return _shown(row)


def list_rules(conn: Connection, *, include_ended: bool = False) -> list[ApprovalRule]:
    """Live rules (and, asked, ended or expired ones), newest first."""
    query = select(approval_rules).order_by(approval_rules.c.id.desc())
    if not include_ended:
        query = query.where(_live(utcnow()))
    return [_shown(r) for r in conn.execute(query)]


def end(conn: Connection, rule_id: int, *, by: str) -> ApprovalRule:
    """End a rule now; what it approved stays approved."""
    row = conn.execute(select(approval_rules).where(approval_rules.c.id == rule_id)).first()
    if row is None or row.ended_at is not None:
        raise NotFoundError(f"No live approval rule with id {rule_id}.", code="rule_not_found")
    conn.execute(
        update(approval_rules)
        .where(approval_rules.c.id == rule_id)
        .values(ended_at=utcnow(), ended_by=by)
    )
    return get(conn, rule_id)


class VersionInRule(NamedTuple):
    """What finding a version's rule needs of the version."""

    id: int
    ecosystem: str
    normalized_name: str
    version: str
    submitted_at: datetime


def rules_for_versions(
    conn: Connection, versions: Sequence[VersionInRule], *, rule_id: int | None = None
) -> dict[int, Any]:
    """Each version's live rule whose range holds it, among those created before it came.

    Versions no rule holds are left out; the rules of every package are read in
    one statement. With ``rule_id`` (a rule applied to existing versions at its
    creation), that rule alone is considered, whenever the versions were submitted.
    """
    if not versions:
        return {}
    query = select(approval_rules).where(
        _live(utcnow()),
        approval_rules.c.normalized_name.in_(sorted({v.normalized_name for v in versions})),
    )
    if rule_id is not None:
        query = query.where(approval_rules.c.id == rule_id)
    by_package: dict[tuple[str, str], list[Any]] = {}
    for rule in conn.execute(query.order_by(approval_rules.c.id)):
        by_package.setdefault((rule.ecosystem, rule.normalized_name), []).append(rule)
    found: dict[int, Any] = {}
    for version in versions:
        eco = ecosystems.get(version.ecosystem)
        for rule in by_package.get((version.ecosystem, version.normalized_name), []):
            if rule_id is None and rule.created_at > version.submitted_at:
                continue
            if eco.in_range(rule.range, version.version):
                found[version.id] = rule
                break
    return found


def pending_versions(conn: Connection, rule_id: int) -> list[int]:
    """Ids of the pending versions of the rule's package inside its range."""
    rule = conn.execute(select(approval_rules).where(approval_rules.c.id == rule_id)).one()
    eco = ecosystems.get(rule.ecosystem)
    rows = conn.execute(
        select(pv.c.id, pv.c.version).where(
            pv.c.ecosystem == rule.ecosystem,
            pv.c.normalized_name == rule.normalized_name,
            pv.c.status == "pending",
        )
    )
    return [r.id for r in rows if eco.in_range(rule.range, r.version)]
