"""Figures across the whole registry, for the dashboard.

Each figure is one aggregate statement; at a million versions together they
take a good part of a second, so the web edge keeps the last result for a
short while rather than computing them at every page view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, func, select

from foss_registry.db import utcnow
from foss_registry.ecosystems import NAMES as ECOSYSTEMS
from foss_registry.packages.models import STATUSES
from foss_registry.packages.models import package_versions as pv
from foss_registry.reviews.models import reviews
from foss_registry.scans.models import scans
from foss_registry.vulns.models import vulndb_ecosystems


@dataclass(frozen=True)
class DayDecisions:
    """How many versions were approved and rejected on one day (people and the policy)."""

    day: date
    approved: int
    rejected: int


@dataclass(frozen=True)
class Figures:
    """What the dashboard shows, computed at ``computed_at``."""

    computed_at: datetime
    #: ecosystem -> status -> versions (every ecosystem and status present, zeros included).
    counts: dict[str, dict[str, int]]
    pending: int
    oldest_pending_at: datetime | None
    approved_with_findings: int
    #: Newest record of the vulnerability database; None when none was imported.
    vulndb_newest: datetime | None
    vulndb_stale_days: float
    decisions: list[DayDecisions] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Versions in the registry."""
        return sum(sum(by_status.values()) for by_status in self.counts.values())

    def status_total(self, status: str) -> int:
        """Versions with this status, every ecosystem together."""
        return sum(by_status[status] for by_status in self.counts.values())

    @property
    def vulndb_age_days(self) -> float | None:
        """Age of the newest vulnerability record in days, None without a database."""
        if self.vulndb_newest is None:
            return None
        return (self.computed_at - self.vulndb_newest).total_seconds() / 86400

    @property
    def vulndb_stale(self) -> bool:
        """True when there is no vulnerability data or it is older than the stale limit."""
        age = self.vulndb_age_days
        return age is None or age > self.vulndb_stale_days


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def figures(conn: Connection, *, stale_days: float, days: int = 30) -> Figures:
    """Compute the dashboard's figures; ``days`` of decisions, today included."""
    now = utcnow()
    counts = {eco: dict.fromkeys(STATUSES, 0) for eco in ECOSYSTEMS}
    for eco, status, n in conn.execute(
        select(pv.c.ecosystem, pv.c.status, func.count()).group_by(pv.c.ecosystem, pv.c.status)
    ):
        counts.setdefault(eco, dict.fromkeys(STATUSES, 0))[status] = int(n)
    oldest = conn.execute(
        select(func.min(pv.c.submitted_at)).where(pv.c.status == "pending")
    ).scalar_one()
    later = scans.alias("later")
    approved_with_findings = conn.execute(
        select(func.count())
        .select_from(pv.join(scans, scans.c.version_id == pv.c.id))
        .where(
            pv.c.status == "approved",
            scans.c.status == "failed",
            # The version's newest scan: no later one exists.
            ~select(later.c.id)
            .where(later.c.version_id == scans.c.version_id, later.c.id > scans.c.id)
            .exists(),
        )
    ).scalar_one()
    vulndb_newest = conn.execute(select(func.max(vulndb_ecosystems.c.newest_modified))).scalar()
    first_day = (now - timedelta(days=days - 1)).date()
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=now.tzinfo)
    by_day: dict[date, dict[str, int]] = {
        first_day + timedelta(days=i): {"approve": 0, "reject": 0} for i in range(days)
    }
    day = func.date(reviews.c.at)
    for value, decision, n in conn.execute(
        select(day, reviews.c.decision, func.count())
        .where(reviews.c.at >= since)
        .group_by(day, reviews.c.decision)
    ):
        slot = by_day.get(_day(value))
        if slot is not None and decision in slot:
            slot[decision] += int(n)
    if isinstance(vulndb_newest, datetime) and vulndb_newest.tzinfo is None:
        vulndb_newest = vulndb_newest.replace(tzinfo=now.tzinfo)
    return Figures(
        computed_at=now,
        counts=counts,
        pending=sum(by_status["pending"] for by_status in counts.values()),
        oldest_pending_at=oldest,
        approved_with_findings=int(approved_with_findings),
        vulndb_newest=vulndb_newest,
        vulndb_stale_days=stale_days,
        decisions=[DayDecisions(d, v["approve"], v["reject"]) for d, v in sorted(by_day.items())],
    )
