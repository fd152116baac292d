"""Record, list and end triage decisions; find the ones that apply to a version.

A decision names an advisory (its id or any alias) for one package, for a
range of versions in the ecosystem's syntax or every version. It is live from
its creation until it is ended (``DELETE``) or its ``expires_at`` passes. A
live decision makes the findings it names stop counting wherever a scan is
judged (``triage.matching``); when it lapses, approved versions it touched
get the flag ``triage_expired`` and a ``triage.expired`` event.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from foss_registry import ecosystems
from foss_registry.db import utcnow
from foss_registry.errors import FieldError, InvalidInputError, NotFoundError
from foss_registry.packages.models import package_versions as pv
from foss_registry.packages.records import iso
from foss_registry.packages.service import future_expiry, identify_package
from foss_registry.scans import service as scans
from foss_registry.triage import openvex
from foss_registry.triage.matching import Decision, finding_ids
from foss_registry.triage.models import TRIAGE_STATES, triage
from foss_registry.triage.records import TriageDecision
from foss_registry.webhooks import events

FLAG_TRIAGE_EXPIRED = "triage_expired"
MAX_ADVISORY_LENGTH = 128


def _bad(field: str, message: str, code: str = "invalid_triage") -> InvalidInputError:
    return InvalidInputError(message, code=code, errors=[FieldError(field, message)])


def _shown(row: Any) -> TriageDecision:
    expired = row.expires_at is not None and row.expires_at <= utcnow()
    return TriageDecision(
        id=row.id,
        advisory=row.advisory,
        ecosystem=row.ecosystem,
        name=row.name,
        range=row.range,
        state=row.state,
        justification=row.justification,
        comment=row.comment,
        expires_at=iso(row.expires_at),
        created_by=row.created_by,
        created_at=iso(row.created_at),
        ended_by=row.ended_by,
        ended_at=iso(row.ended_at),
        live=row.ended_at is None and not expired,
    )


def _live(now: datetime) -> Any:
    return and_(
        triage.c.ended_at.is_(None),
        or_(triage.c.expires_at.is_(None), triage.c.expires_at > now),
    )


def create(
    conn: Connection,
    *,
    advisory: str,
    ecosystem: str,
    name: str,
    range_text: str | None,
    state: str,
    justification: str | None,
    comment: str | None,
    expires_at: datetime | None,
    by: str,
) -> TriageDecision:
    """Validate and store a decision; 400 naming the field for anything wrong."""
    text = advisory.strip() if isinstance(advisory, str) else ""
    if not text or len(text) > MAX_ADVISORY_LENGTH or any(ord(c) < 32 for c in text):
        raise _bad("advisory", "advisory must be an advisory id or alias (e.g. CVE-2024-1234).")
    eco, display, normalized = identify_package(ecosystem, name)
    normalized_range = None
    if range_text is not None and range_text.strip():
        normalized_range = eco.normalize_range(range_text)
    if state not in TRIAGE_STATES:
        raise _bad("state", f"state must be one of {', '.join(TRIAGE_STATES)}.")
    if state == "not_affected":
        if justification not in openvex.JUSTIFICATIONS:
            raise _bad(
                "justification",
                "not_affected needs an OpenVEX justification: "
                f"{', '.join(openvex.JUSTIFICATIONS)}.",
                "justification_required",
            )
    elif justification is not None:
        raise _bad("justification", "justification is given only with state not_affected.")
    if comment is not None and "\x00" in comment:
        raise _bad("comment", "comment must not contain null bytes.")
    values = {
        "advisory": text,
        "ecosystem": eco.name,
        "name": display,
        "normalized_name": normalized,
        "range": normalized_range,
        "state": state,
        "justification": justification,
        "comment": comment.strip() if comment else None,
        "created_by": by,
        "created_at": utcnow(),
        "expires_at": future_expiry(expires_at),
    }
    new_id = conn.execute(triage.insert().values(**values).returning(triage.c.id)).scalar_one()
    return get(conn, new_id)


def get(conn: Connection, triage_id: int) -> TriageDecision:
    """One decision, live or not."""
    row = conn.execute(select(triage).where(triage.c.id == triage_id)).first()
    if row is None:
        raise NotFoundError(f"No triage decision with id {triage_id}.", code="triage_not_found")
    return _shown(row)


def list_triage(conn: Connection, *, include_ended: bool = False) -> list[TriageDecision]:
    """Live decisions (and, asked, ended or expired ones), newest first."""
    query = select(triage).order_by(triage.c.id.desc())
    if not include_ended:
        query = query.where(_live(utcnow()))
    return [_shown(r) for r in conn.execute(query)]


def end(conn: Connection, triage_id: int, *, by: str) -> TriageDecision:
    """End a decision now: its findings count again; approved versions it touched get flagged."""
    row = conn.execute(select(triage).where(triage.c.id == triage_id)).first()
    if row is None or row.ended_at is not None:
        raise NotFoundError(
            f"No live triage decision with id {triage_id}.", code="triage_not_found"
        )
    now = utcnow()
    conn.execute(update(triage).where(triage.c.id == triage_id).values(ended_at=now, ended_by=by))
    if row.lapse_handled_at is None:
        _lapse(conn, row, reason="ended")
    return get(conn, triage_id)


def pending_touched(conn: Connection, triage_id: int) -> list[int]:
    """Ids of pending versions a decision covers a finding of (for the policy to look again)."""
    row = conn.execute(select(triage).where(triage.c.id == triage_id)).one()
    return [vid for vid, status in touched_versions(conn, row) if status == "pending"]


def _applies(entry: Any, version: str) -> bool:
    if entry.range is None:
        return True
    try:
        return ecosystems.get(entry.ecosystem).in_range(entry.range, version)
    except InvalidInputError:
        return False


def _decision(entry: Any) -> Decision:
    return Decision(
        entry.id,
        entry.advisory,
        entry.state,
        entry.justification,
        entry.comment,
        iso(entry.expires_at),
        entry.created_by,
    )


def live_for_packages(
    conn: Connection, packages: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[Any]]:
    """Live decisions per (ecosystem, normalised name), for the packages given."""
    wanted = sorted(set(packages))
    found: dict[tuple[str, str], list[Any]] = {}
    if not wanted:
        return found
    now = utcnow()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        names = sorted({n for _, n in chunk})
        for row in conn.execute(
            select(triage)
            .where(_live(now), triage.c.normalized_name.in_(names))
            .order_by(triage.c.id)
        ):
            key = (row.ecosystem, row.normalized_name)
            if key in chunk:
                found.setdefault(key, []).append(row)
    return found


def decisions_for(entries: Iterable[Any], version: str) -> list[Decision]:
    """The decisions among ``entries`` (one package's) whose range holds ``version``."""
    return [_decision(e) for e in entries if _applies(e, version)]


def decisions_for_version(conn: Connection, version_id: int) -> list[Decision]:
    """The live decisions that apply to one stored version."""
    version = conn.execute(
        select(pv.c.ecosystem, pv.c.normalized_name, pv.c.version).where(pv.c.id == version_id)
    ).first()
    if version is None:
        return []
    key = (version.ecosystem, version.normalized_name)
    return decisions_for(live_for_packages(conn, [key]).get(key, []), version.version)


def touched_versions(conn: Connection, entry: Any) -> list[tuple[int, str]]:
    """(id, status) of the package's versions in the decision's range whose newest scan
    has a finding the decision names."""
    versions = conn.execute(
        select(pv.c.id, pv.c.version, pv.c.status).where(
            pv.c.ecosystem == entry.ecosystem, pv.c.normalized_name == entry.normalized_name
        )
    ).all()
    inside = {v.id: v for v in versions if _applies(entry, v.version)}
    if not inside:
        return []
    wanted = entry.advisory.casefold()
    touched = []
    for version_id, findings in scans.newest_findings(conn, inside).items():
        if any(wanted in finding_ids(f) for f in findings):
            touched.append((version_id, inside[version_id].status))
    return sorted(touched)


def _lapse(conn: Connection, entry: Any, *, reason: str) -> None:
    """Flag the approved versions a lapsed decision touched and write their events."""
    for version_id, status in touched_versions(conn, entry):
        if status != "approved":
            continue
        flags = conn.execute(select(pv.c.flags).where(pv.c.id == version_id)).scalar_one() or []
        if FLAG_TRIAGE_EXPIRED not in flags:
            conn.execute(
                update(pv)
                .where(pv.c.id == version_id)
                .values(flags=sorted({*flags, FLAG_TRIAGE_EXPIRED}))
            )
            events.emit_for_version(
                conn, "package.flagged", version_id, flags=[FLAG_TRIAGE_EXPIRED]
            )
        events.emit_for_version(
            conn,
            "triage.expired",
            version_id,
            triage={
                "id": entry.id,
                "advisory": entry.advisory,
                "state": entry.state,
                "reason": reason,
            },
        )
    conn.execute(update(triage).where(triage.c.id == entry.id).values(lapse_handled_at=utcnow()))


def _due(now: datetime) -> Any:
    return and_(
        triage.c.lapse_handled_at.is_(None),
        triage.c.ended_at.is_(None),
        triage.c.expires_at.is_not(None),
        triage.c.expires_at <= now,
    )


def lapses_due(conn: Connection) -> bool:
    """Whether a decision has expired and was not yet acted on (a cheap read)."""
    return conn.execute(select(triage.c.id).where(_due(utcnow())).limit(1)).first() is not None


def handle_lapses(conn: Connection) -> int:
    """Act on every decision whose expiry has passed and was not yet acted on; return how many."""
    rows = conn.execute(select(triage).where(_due(utcnow()))).all()
    for row in rows:
        _lapse(conn, row, reason="expired")
    return len(rows)


def export_openvex(conn: Connection, *, author: str) -> dict[str, Any]:
    """The live triage as an OpenVEX 0.2 document; products are purls."""
    statements = []
    for row in conn.execute(select(triage).where(_live(utcnow())).order_by(triage.c.id)):
        entry = _shown(row)
        aliases: set[str] = set()
        products: list[str] = []
        versions = conn.execute(
            select(pv.c.id, pv.c.version, pv.c.purl).where(
                pv.c.ecosystem == row.ecosystem, pv.c.normalized_name == row.normalized_name
            )
        ).all()
        if row.range is None:
            products.append(openvex.versionless_purl(row.ecosystem, row.name))
        else:
            products.extend(v.purl for v in versions if _applies(row, v.version))
        # The advisory's other names, as the package's scans know them.
        wanted = row.advisory.casefold()
        for finding in scans.all_findings(conn, [v.id for v in versions]):
            if wanted in finding_ids(finding):
                aliases.update(str(i) for i in [finding.get("id"), *finding.get("aliases", [])])
        if products:
            statements.append(openvex.statement(entry, sorted(set(products)), sorted(aliases)))
    return openvex.document(statements, timestamp=iso(utcnow()) or "", author=author)
