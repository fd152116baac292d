"""The vulnerability database service: import OSV records, report the state, find candidates.

Advisories live only in the database. An import reads records one at a time
(``vulns.osv.iter_records``) and commits them in batches, each batch in its own
write transaction together with the re-scans it causes, so an import can run
beside a serving registry (SQLite waits on its ``busy_timeout``) and a crash
half-way loses nothing that was reported as imported.

Re-importing the same or another copy is idempotent: a record is stored by
its ``id``; a copy with a newer ``modified`` replaces it, the same or an older
one changes nothing. Withdrawn records are stored (their withdrawal is news for
the versions they used to affect) but never match.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, select, update

from foss_registry.db import utcnow, write_transaction
from foss_registry.vulns.matcher import CompiledRecord, compile_record
from foss_registry.vulns.models import advisories, advisory_packages, vulndb_ecosystems
from foss_registry.vulns.osv import (
    OSVRecordError,
    Record,
    affected_packages,
    decode_record,
    encode_record,
    iter_records,
)
from foss_registry.vulns.records import EcosystemData, SourceCount, VulnDbStatus

__all__ = [
    "BATCH_SIZE",
    "IMPORT_TRIGGER",
    "DatabaseState",
    "ImportReport",
    "Rescans",
    "candidate_records",
    "candidates_for",
    "data_ages",
    "database_state",
    "database_states",
    "import_path",
    "import_records",
    "source_of",
    "status",
    "store_batch",
]

#: Records per transaction: large enough to be fast, small enough not to hold the lock long.
BATCH_SIZE = 1000
#: The ``trigger`` of the scans an import causes.
IMPORT_TRIGGER = "vulndb-import"
# Longest id stored (advisories.id); real ids are under 40 characters.
_MAX_ID_LENGTH = 128
# How many bad-record messages an import keeps for its report (the count is always exact).
_MAX_ERRORS = 20

Pair = tuple[str, str]


def source_of(advisory_id: str) -> str:
    """The database a record comes from, read from its id's prefix (PYSEC, GHSA, MAL...)."""
    prefix = advisory_id.split("-", 1)[0].strip().upper()
    return prefix[:32] if prefix and prefix != advisory_id.upper() else "OTHER"


@dataclass
class ImportReport:
    """What an import did: counts of records by outcome, and the re-scans it queued."""

    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Copies older than the stored record (the stored one is kept).
    older: int = 0
    #: Records read that are withdrawn (stored, never matched).
    withdrawn: int = 0
    #: Records naming no package of a supported ecosystem (nothing to store them for).
    skipped: int = 0
    invalid: int = 0
    errors: list[str] = field(default_factory=list)
    #: (ecosystem, normalised name) of every package a new or changed record is about.
    touched: set[Pair] = field(default_factory=set)
    rescans: int = 0
    #: Finished scans whose package no changed record names: still true, now of the new data.
    confirmed: int = 0

    def merge(self, other: ImportReport) -> None:
        """Add another report's counts (a batch's, a file's) to this one."""
        for name in ("read", "new", "updated", "unchanged", "older", "withdrawn", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.invalid += other.invalid
        self.errors.extend(other.errors[: max(0, _MAX_ERRORS - len(self.errors))])
        self.touched |= other.touched
        self.rescans += other.rescans
        self.confirmed += other.confirmed

    def note_error(self, error: OSVRecordError) -> None:
        """Count one record that could not be read, keeping the first messages."""
        self.invalid += 1
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append(error.detail)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (``touched`` as a count)."""
        return {
            "read": self.read,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "older": self.older,
            "withdrawn": self.withdrawn,
            "skipped": self.skipped,
            "invalid": self.invalid,
            "errors": list(self.errors),
            "packages_touched": len(self.touched),
            "rescans": self.rescans,
            "scans_confirmed": self.confirmed,
        }


def _row(record: Record, now: datetime) -> dict[str, Any]:
    return {
        "id": record.id,
        "modified": record.modified,
        "published": record.published,
        "withdrawn": record.withdrawn,
        "source": source_of(record.id),
        "record": encode_record(record),
        "imported_at": now,
    }


def store_batch(conn: Connection, records: Sequence[Record]) -> ImportReport:
    """Store one batch of records in the caller's transaction; no re-scans are queued here.

    Returns the batch's counts and the packages whose advisories changed.
    """
    report = ImportReport()
    now = utcnow()
    latest = _newest_per_id(records, report)
    if not latest:
        return report
    changes = _compare_with_stored(conn, latest, report, now)
    report.new = len(changes.new_rows)
    report.updated = len(changes.changed_rows)
    if changes.changed_rows:
        report.touched |= _replace_changed(conn, changes.changed_rows)
    if changes.new_rows:
        conn.execute(advisories.insert(), changes.new_rows)
    if changes.package_rows:
        conn.execute(advisory_packages.insert(), changes.package_rows)
    _note_freshness(conn, changes.newest, now)
    return report


def _newest_per_id(
    records: Sequence[Record], report: ImportReport
) -> dict[str, tuple[Record, frozenset[Pair]]]:
    """The batch's records that name packages, the newest copy of each id, counted in ``report``."""
    latest: dict[str, tuple[Record, frozenset[Pair]]] = {}
    for record in records:
        report.read += 1
        pairs = affected_packages(record)
        if not pairs:
            report.skipped += 1
            continue
        if record.is_withdrawn:
            report.withdrawn += 1
        seen = latest.get(record.id)
        if seen is not None:
            # The same id twice in one batch (two copies in one folder): the newest wins.
            newer = record.modified > seen[0].modified
            if record.modified == seen[0].modified:
                report.unchanged += 1
            else:
                report.older += 1
            if not newer:
                continue
        latest[record.id] = (record, pairs)
    return latest


@dataclass
class _BatchChanges:
    """The rows a batch writes, and each ecosystem's newest ``modified`` in it."""

    new_rows: list[dict[str, Any]] = field(default_factory=list)
    changed_rows: list[dict[str, Any]] = field(default_factory=list)
    package_rows: list[dict[str, Any]] = field(default_factory=list)
    newest: dict[str, datetime] = field(default_factory=dict)


def _compare_with_stored(
    conn: Connection,
    latest: dict[str, tuple[Record, frozenset[Pair]]],
    report: ImportReport,
    now: datetime,
) -> _BatchChanges:
    """Sort the records into new, newer than stored, and unchanged or older (counted)."""
    stored: dict[str, datetime] = {
        row.id: row.modified
        for row in conn.execute(
            select(advisories.c.id, advisories.c.modified).where(advisories.c.id.in_(list(latest)))
        )
    }
    changes = _BatchChanges()
    for advisory_id, (record, pairs) in latest.items():
        for ecosystem, _ in pairs:
            if ecosystem not in changes.newest or record.modified > changes.newest[ecosystem]:
                changes.newest[ecosystem] = record.modified
        old = stored.get(advisory_id)
        if old is not None and record.modified <= old:
            if record.modified == old:
                report.unchanged += 1
            else:
                report.older += 1
            continue
        (changes.new_rows if old is None else changes.changed_rows).append(_row(record, now))
        changes.package_rows.extend(
            {"advisory_id": advisory_id, "ecosystem": e, "normalized_name": n} for e, n in pairs
        )
        if old is not None or not record.is_withdrawn:
            report.touched |= pairs
    return changes


def _replace_changed(conn: Connection, changed_rows: list[dict[str, Any]]) -> set[Pair]:
    """Update the advisories a newer copy replaces; return the packages they used to name.

    Those are touched too: their finding may be gone. Their package rows are
    deleted here and written again from the new copies.
    """
    changed_ids = [r["id"] for r in changed_rows]
    named_before = {
        (r.ecosystem, r.normalized_name)
        for r in conn.execute(
            select(advisory_packages.c.ecosystem, advisory_packages.c.normalized_name).where(
                advisory_packages.c.advisory_id.in_(changed_ids)
            )
        )
    }
    conn.execute(delete(advisory_packages).where(advisory_packages.c.advisory_id.in_(changed_ids)))
    conn.execute(
        update(advisories)
        .where(advisories.c.id == bindparam("b_id"))
        .values(
            modified=bindparam("b_modified"),
            published=bindparam("b_published"),
            withdrawn=bindparam("b_withdrawn"),
            source=bindparam("b_source"),
            record=bindparam("b_record"),
            imported_at=bindparam("b_imported_at"),
        ),
        [{f"b_{k}": v for k, v in r.items()} for r in changed_rows],
    )
    return named_before


def _note_freshness(conn: Connection, newest: dict[str, datetime], now: datetime) -> None:
    """Keep each ecosystem's newest ``modified`` and last import time (one row each)."""
    if not newest:
        return
    current = {
        row.ecosystem: row.newest_modified
        for row in conn.execute(
            select(vulndb_ecosystems.c.ecosystem, vulndb_ecosystems.c.newest_modified).where(
                vulndb_ecosystems.c.ecosystem.in_(list(newest))
            )
        )
    }
    for ecosystem, modified in newest.items():
        if ecosystem in current:
            conn.execute(
                update(vulndb_ecosystems)
                .where(vulndb_ecosystems.c.ecosystem == ecosystem)
                .values(newest_modified=max(modified, current[ecosystem]), last_imported_at=now)
            )
        else:
            conn.execute(
                vulndb_ecosystems.insert().values(
                    ecosystem=ecosystem, newest_modified=modified, last_imported_at=now
                )
            )


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Rescans:
    """How an import brings the scans up to date (``scans.service.IMPORT_RESCANS``).

    The scans are not this package's to make. ``of_packages(conn, packages,
    trigger)`` queues a re-scan of every stored version of the (ecosystem,
    normalised name) packages a batch touched, in the batch's transaction, and
    returns how many; ``refresh(conn, trigger)`` runs once after the import and
    deals with every version whose newest scan saw other data: (re-scans, confirmed).
    """

    of_packages: Callable[[Connection, Iterable[Pair], str], int]
    refresh: Callable[[Connection, str], tuple[int, int]]


def import_records(
    engine: Engine,
    records: Iterable[Record],
    *,
    rescans: Rescans,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    trigger: str = IMPORT_TRIGGER,
    report: ImportReport | None = None,
) -> ImportReport:
    """Store records in batches, each committed with the re-scans it causes (``rescans``).

    ``progress`` is called with the number of records each committed batch held.
    """
    report = report if report is not None else ImportReport()
    batch: list[Record] = []

    def commit() -> None:
        with write_transaction(engine) as conn:
            part = store_batch(conn, batch)
            part.rescans = (
                rescans.of_packages(conn, part.touched, trigger) if part.touched else 0
            )
        report.merge(part)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for record in records:
        if len(record.id) > _MAX_ID_LENGTH:
            report.note_error(
                OSVRecordError(
                    record.id[:60] + "...", f"the id is over {_MAX_ID_LENGTH} characters"
                )
            )
            continue
        batch.append(record)
        if len(batch) >= batch_size:
            commit()
    if batch:
        commit()
    if report.read:
        with write_transaction(engine) as conn:
            queued, confirmed = rescans.refresh(conn, trigger)
        report.rescans += queued
        report.confirmed += confirmed
    return report


def import_path(
    engine: Engine,
    path: str | Path,
    *,
    rescans: Rescans,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    trigger: str = IMPORT_TRIGGER,
) -> ImportReport:
    """Import every OSV record of a file, folder or zip; bad records are counted and skipped.

    Raises ``OSVSourceError`` when the path cannot be read at all (nothing imported).
    """
    report = ImportReport()

    def on_error(error: OSVRecordError) -> None:
        report.note_error(error)
        if progress is not None:
            progress(1)

    return import_records(
        engine,
        iter_records(path, on_error=on_error),
        rescans=rescans,
        batch_size=batch_size,
        progress=progress,
        trigger=trigger,
        report=report,
    )


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseState:
    """How fresh the data for one ecosystem is: newest ``modified`` and last import."""

    ecosystem: str
    newest_modified: datetime
    last_imported_at: datetime

    def age_days(self, now: datetime | None = None) -> float:
        """Days since the newest record was modified."""
        return ((now or utcnow()) - self.newest_modified).total_seconds() / 86400


def database_states(conn: Connection) -> dict[str, DatabaseState]:
    """The freshness of every ecosystem with data (an ecosystem never imported is absent)."""
    return {
        row.ecosystem: DatabaseState(row.ecosystem, row.newest_modified, row.last_imported_at)
        for row in conn.execute(_STATES)
    }


def data_ages(conn: Connection) -> list[tuple[str, float]]:
    """Seconds since each ecosystem's newest vulnerability record (none before an import)."""
    now = utcnow()
    rows = conn.execute(
        select(vulndb_ecosystems.c.ecosystem, vulndb_ecosystems.c.newest_modified).order_by(
            vulndb_ecosystems.c.ecosystem
        )
    ).all()
    return [(str(eco), (now - newest).total_seconds()) for eco, newest in rows if newest]


def database_state(conn: Connection, ecosystem: str) -> DatabaseState | None:
    """The freshness of one ecosystem's data, or None when none was ever imported."""
    return database_states(conn).get(ecosystem)


class _CompiledCache:
    """Compiled records keyed by (id, modified), least recently used dropped first.

    This is not a cache of the database: every scan reads the candidates' ids
    and ``modified`` from the database, and a record changed by any process has
    a new ``modified`` and so a new key. It only saves re-parsing the ~300
    listed versions of a large PyPA record for every version scanned.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, datetime], CompiledRecord] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple[str, datetime]) -> CompiledRecord | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple[str, datetime], value: CompiledRecord) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_COMPILED = _CompiledCache(4096)


# Statements built once: the scan path runs them for every version scanned.
_STATES = select(vulndb_ecosystems)
_CANDIDATE_KEYS = (
    select(advisory_packages.c.normalized_name, advisories.c.id, advisories.c.modified)
    .select_from(
        advisory_packages.join(advisories, advisories.c.id == advisory_packages.c.advisory_id)
    )
    .where(
        advisory_packages.c.ecosystem == bindparam("ecosystem"),
        advisory_packages.c.normalized_name.in_(bindparam("names", expanding=True)),
        advisories.c.withdrawn.is_(None),
    )
)
_RECORDS = select(advisories.c.id, advisories.c.modified, advisories.c.record).where(
    advisories.c.id.in_(bindparam("ids", expanding=True))
)


def candidates_for(conn: Connection, packages: Iterable[Pair]) -> dict[Pair, list[CompiledRecord]]:
    """The advisories indexed under each package (withdrawn ones excluded), compiled.

    The ``(ecosystem, normalized_name)`` index narrows the candidates in the
    database, for many packages in a few statements; the exact version check
    is the caller's (``vulns.matcher``). Packages without advisories are absent.
    """
    by_ecosystem: dict[str, set[str]] = {}
    for ecosystem, name in packages:
        by_ecosystem.setdefault(ecosystem, set()).add(name)
    keys: dict[Pair, list[tuple[str, datetime]]] = {}
    for ecosystem, names in by_ecosystem.items():
        for chunk in _chunks(sorted(names), 500):
            for row in conn.execute(_CANDIDATE_KEYS, {"ecosystem": ecosystem, "names": chunk}):
                keys.setdefault((ecosystem, row.normalized_name), []).append((row.id, row.modified))
    compiled: dict[str, CompiledRecord] = {}
    missing: set[str] = set()
    for found in keys.values():
        for key in found:
            hit = _COMPILED.get(key)
            if hit is None:
                missing.add(key[0])
            else:
                compiled[key[0]] = hit
    for chunk in _chunks(sorted(missing), 500):
        for row in conn.execute(_RECORDS, {"ids": chunk}):
            record = compile_record(decode_record(bytes(row.record)))
            _COMPILED.put((row.id, row.modified), record)
            compiled[row.id] = record
    return {
        package: [compiled[advisory_id] for advisory_id, _ in found if advisory_id in compiled]
        for package, found in keys.items()
    }


def candidate_records(
    conn: Connection, ecosystem: str, normalized_name: str
) -> list[CompiledRecord]:
    """The compiled advisories indexed under one package (see :func:`candidates_for`)."""
    return candidates_for(conn, [(ecosystem, normalized_name)]).get(
        (ecosystem, normalized_name), []
    )


def status(conn: Connection, *, stale_days: float | None = None) -> VulnDbStatus:
    """The database's contents: records per ecosystem and source, freshness, withdrawn count."""
    now = utcnow()
    total, withdrawn, newest = conn.execute(
        select(
            func.count(),
            func.count(advisories.c.withdrawn),
            func.max(advisories.c.modified),
        ).select_from(advisories)
    ).one()
    per_source = conn.execute(
        select(
            advisory_packages.c.ecosystem,
            advisories.c.source,
            func.count(func.distinct(advisories.c.id)),
            func.count(func.distinct(advisories.c.id)).filter(advisories.c.withdrawn.is_not(None)),
        )
        .select_from(
            advisory_packages.join(advisories, advisories.c.id == advisory_packages.c.advisory_id)
        )
        .group_by(advisory_packages.c.ecosystem, advisories.c.source)
        .order_by(advisory_packages.c.ecosystem, advisories.c.source)
    ).all()
    per_ecosystem_records: dict[str, int] = {
        row[0]: int(row[1])
        for row in conn.execute(
            select(
                advisory_packages.c.ecosystem,
                func.count(func.distinct(advisory_packages.c.advisory_id)),
            ).group_by(advisory_packages.c.ecosystem)
        )
    }
    states = {
        row.ecosystem: row
        for row in conn.execute(select(vulndb_ecosystems).order_by(vulndb_ecosystems.c.ecosystem))
    }
    ecosystems_out = []
    for ecosystem in sorted(set(states) | set(per_ecosystem_records)):
        state = states.get(ecosystem)
        age = (now - state.newest_modified).total_seconds() / 86400 if state else None
        ecosystems_out.append(
            EcosystemData(
                ecosystem=ecosystem,
                records=int(per_ecosystem_records.get(ecosystem, 0)),
                sources={
                    row[1]: SourceCount(records=int(row[2]), withdrawn=int(row[3]))
                    for row in per_source
                    if row[0] == ecosystem
                },
                newest_modified=_iso(state.newest_modified) if state else None,
                last_imported_at=_iso(state.last_imported_at) if state else None,
                age_days=None if age is None else round(age, 1),
                stale=None if age is None or stale_days is None else age > stale_days,
            )
        )
    age_all = (now - newest).total_seconds() / 86400 if newest is not None else None
    return VulnDbStatus(
        records=int(total),
        withdrawn=int(withdrawn),
        newest_modified=_iso(newest),
        age_days=None if age_all is None else round(age_all, 1),
        stale=None if age_all is None or stale_days is None else age_all > stale_days,
        last_imported_at=_iso(max((s.last_imported_at for s in states.values()), default=None)),
        ecosystems=ecosystems_out,
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")
