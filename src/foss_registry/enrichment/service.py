"""Enrich a version with its upstream registry's facts, turn them into signals, store both.

Fetching (:func:`fetch`) happens outside any transaction and never raises: the
outcome is ``ok``, ``not_found``, ``unavailable`` (with a reason) or
``not_configured``. Storing (:func:`store`) runs in the job's transaction: it
normalises upstream's license (and uses it when none was submitted), checks
the name for typosquatting, computes the signals with the policy's levels,
and replaces the version's ``upstream_records`` row. An ``unavailable``
outcome schedules a later retry as a new job.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

import msgspec
from sqlalchemy import Connection, Engine, bindparam, select

from foss_registry.config import get_settings
from foss_registry.db import (
    plain_sql,
    plain_sql_many,
    read_connection,
    update_rows,
    upsert_rows,
    utcnow,
)
from foss_registry.enrichment.models import upstream_records as ur
from foss_registry.enrichment.records import EnrichResult
from foss_registry.errors import NotFoundError
from foss_registry.jobs import queue
from foss_registry.licenses.expressions import normalize_declared
from foss_registry.packages.models import package_versions as pv
from foss_registry.packages.records import EMPTY_UPSTREAM_FACTS
from foss_registry.signals import rules
from foss_registry.signals.popular import popular_names
from foss_registry.signals.typosquat import TyposquatIndex
from foss_registry.upstream import ECOSYSTEMS as UPSTREAM_ECOSYSTEMS
from foss_registry.upstream import (
    NotConfiguredError,
    UnavailableError,
    Upstream,
    UpstreamConfig,
    UpstreamFacts,
    reader,
    without_credentials,
)
from foss_registry.upstream import NotFoundError as UpstreamNotFound
from foss_registry.upstream.background import shared

log = logging.getLogger("foss_registry.enrichment")

T = TypeVar("T")

ENRICH_JOB = "enrich"
#: A whole enrichment (every request it needs) gets no longer than this.
DEADLINE_SECONDS = 25.0
#: Later tries after an ``unavailable`` outcome, and the wait before each.
RETRY_DELAYS = (60, 300, 1800, 7200, 43200)


@dataclass(frozen=True)
class Outcome:
    """What asking the upstream gave."""

    status: str
    source: str | None = None
    reason: str | None = None
    facts: UpstreamFacts | None = None


def config() -> UpstreamConfig:
    """The upstreams of this process's settings (read per use: tests and workers change them)."""
    return UpstreamConfig.from_settings(get_settings())


def request_enrichment(conn: Connection, version_id: int, *, delay_seconds: float = 0) -> None:
    """Queue the enrichment of a version in the caller's transaction."""
    queue.enqueue(conn, ENRICH_JOB, {"version_id": version_id}, delay_seconds=delay_seconds)


def _not_configured(ecosystem: str) -> Outcome:
    if ecosystem not in UPSTREAM_ECOSYSTEMS:
        return Outcome("not_configured", reason=f"no upstream registry is read for {ecosystem}")
    return Outcome("not_configured", reason=f"FOSS_UPSTREAM_{ecosystem.upper()} is not set")


async def fetch_async(
    upstreams: UpstreamConfig,
    http: Any,
    ecosystem: str,
    name: str,
    version: str,
    readers: dict[str, Upstream] | None = None,
) -> Outcome:
    """Ask the configured upstream about one version; never raises.

    ``readers`` keeps one reader per ecosystem for a run of many versions, so
    that what they share (Maven's parent POMs) is read once.
    """
    base = upstreams.url(ecosystem)
    if base is None:
        return _not_configured(ecosystem)
    if readers is None:
        upstream = reader(ecosystem, base, http)
    else:
        upstream = readers.get(ecosystem) or readers.setdefault(
            ecosystem, reader(ecosystem, base, http)
        )
    # The URL stored and shown is the one read, without credentials the setting may hold.
    shown = without_credentials(base)
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            facts = await upstream.facts(name, version)
    except UpstreamNotFound as exc:
        return Outcome("not_found", without_credentials(exc.url or base), exc.reason)
    except NotConfiguredError as exc:
        return Outcome("not_configured", reason=exc.reason)
    except UnavailableError as exc:
        return Outcome("unavailable", without_credentials(exc.url or base), exc.reason)
    except TimeoutError:
        return Outcome("unavailable", shown, f"no answer within {DEADLINE_SECONDS:g} s")
    except Exception as exc:  # a reader's bug or an answer it cannot handle
        log.exception("enrichment of %s %s %s failed", ecosystem, name, version)
        return Outcome("unavailable", shown, f"the answer could not be read: {exc}"[:500])
    source = without_credentials(facts.source)
    return Outcome("ok", source, None, msgspec.structs.replace(facts, source=source))


def fetch(
    ecosystem: str, name: str, version: str, upstreams: UpstreamConfig | None = None
) -> Outcome:
    """:func:`fetch_async` for synchronous callers, on the process's background client."""
    upstreams = upstreams or config()
    if upstreams.url(ecosystem) is None:
        return _not_configured(ecosystem)
    cache_dir = get_settings().upstream_cache_dir
    client = shared(upstreams.limits, str(cache_dir) if cache_dir else None)
    try:
        return client.call(
            lambda: fetch_async(upstreams, client.http, ecosystem, name, version),
            timeout=DEADLINE_SECONDS + 5,
        )
    except TimeoutError:  # the deadline inside did not fire: never hold a job longer
        return Outcome("unavailable", upstreams.url(ecosystem), "no answer in time")


def version_identity(conn: Connection, version_id: int) -> tuple[str, str, str] | None:
    """(ecosystem, name, version) of a stored version, None when it is gone."""
    row = conn.execute(
        select(pv.c.ecosystem, pv.c.name, pv.c.version).where(pv.c.id == version_id)
    ).first()
    return (row.ecosystem, row.name, row.version) if row is not None else None


def version_identities(
    conn: Connection, version_ids: list[int], chunk: int = 500
) -> dict[int, tuple[str, str, str]]:
    """(ecosystem, name, version) of many stored versions by id, read in a few queries."""
    found: dict[int, tuple[str, str, str]] = {}
    for start in range(0, len(version_ids), chunk):
        rows = conn.execute(
            select(pv.c.id, pv.c.ecosystem, pv.c.name, pv.c.version).where(
                pv.c.id.in_(version_ids[start : start + chunk])
            )
        )
        found.update({int(r.id): (r.ecosystem, r.name, r.version) for r in rows})
    return found


def prepare_enrichment(engine: Engine, payload: dict[str, Any]) -> dict[str, Any]:
    """The enrich job's network part, outside any transaction: ``{"outcome": Outcome}``.

    With no upstream configured at all there is nothing to ask: the storing
    part finds the outcome (``not_configured``) from the version it reads anyway.
    """
    if not any(config().urls.values()):
        return {}
    with read_connection(engine) as conn:
        identity = version_identity(conn, int(payload["version_id"]))
    if identity is None:
        return {"outcome": None}
    return {"outcome": fetch(*identity)}


def complete_enrichments(
    conn: Connection, payloads: Sequence[dict[str, Any]], signal_policy: rules.SignalPolicy
) -> list[int]:
    """The enrich jobs' storing part, for many versions at once; returns the versions stored.

    A version named twice is stored twice, in order (the later outcome is kept).
    """
    # Prepared elsewhere, or with no upstream to ask: ask now (versions gone are skipped).
    unasked = [int(p["version_id"]) for p in payloads if p.get("outcome") is None]
    identities = version_identities(conn, unasked) if unasked else {}
    outcomes: list[tuple[int, Outcome]] = []
    for payload in payloads:
        version_id = int(payload["version_id"])
        outcome = payload.get("outcome")
        if outcome is None:
            identity = identities.get(version_id)
            if identity is None:
                continue
            outcome = fetch(*identity)
        outcomes.append((version_id, outcome))
    stored: list[int] = []
    for run in distinct_runs(outcomes, key=lambda item: item[0]):
        stored.extend(store_many(conn, run, signal_policy))
    return stored


def complete_enrichment(
    conn: Connection, payload: dict[str, Any], signal_policy: rules.SignalPolicy
) -> int | None:
    """The enrich job's storing part; returns the version id (None if the version is gone)."""
    stored = complete_enrichments(conn, [payload], signal_policy)
    return stored[0] if stored else None


def distinct_runs(items: Sequence[T], *, key: Callable[[T], Any]) -> list[list[T]]:
    """``items`` cut, in order, into runs in which no key appears twice."""
    runs: list[list[T]] = []
    seen: set[Any] = set()
    for item in items:
        if not runs or key(item) in seen:
            runs.append([])
            seen = set()
        runs[-1].append(item)
        seen.add(key(item))
    return runs


# --- typosquatting ----------------------------------------------------------------------

_INDEX_LOCK = threading.Lock()
_POPULAR: dict[str, TyposquatIndex] = {}
_APPROVED: dict[str, tuple[Any, TyposquatIndex]] = {}


def popular_index(ecosystem: str) -> TyposquatIndex:
    """The index of an ecosystem's shipped popular names (built once per process)."""
    with _INDEX_LOCK:
        index = _POPULAR.get(ecosystem)
        if index is None:
            index = TyposquatIndex(ecosystem).add(popular_names(ecosystem), "popular")
            _POPULAR[ecosystem] = index
        return index


_APPROVED_SQL = (
    "SELECT count(*), max(approved_at) FROM package_versions "
    "WHERE ecosystem = :ecosystem AND status = 'approved'"
)


def approved_index(conn: Connection, ecosystem: str) -> TyposquatIndex:
    """The index of the catalogue's approved names, rebuilt when approvals change."""
    approved = (pv.c.ecosystem == ecosystem) & (pv.c.status == "approved")
    fingerprint = tuple(plain_sql(conn, _APPROVED_SQL, {"ecosystem": ecosystem})[0])
    with _INDEX_LOCK:
        cached = _APPROVED.get(ecosystem)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
    names = conn.execute(select(pv.c.name).where(approved).distinct()).scalars().all()
    index = TyposquatIndex(ecosystem).add(names, "approved")
    with _INDEX_LOCK:
        _APPROVED[ecosystem] = (fingerprint, index)
    return index


def typosquat_message(conn: Connection, ecosystem: str, name: str) -> str | None:
    """The typosquat signal's message for a name, None when it imitates nothing known."""
    return _typosquat(popular_index(ecosystem), approved_index(conn, ecosystem), name)


def _typosquat(popular: TyposquatIndex, approved: TyposquatIndex, name: str) -> str | None:
    if name in popular or name in approved:
        return None
    match = popular.check(name) or approved.check(name)
    return match.message(name) if match else None


# --- storing ------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def upstream_view(
    outcome: Outcome, fetched_at: datetime, license_from_upstream: bool
) -> dict[str, Any]:
    """The ``upstream`` object of a record, every field present."""
    view = dict(EMPTY_UPSTREAM_FACTS)
    view.update(status=outcome.status, source=outcome.source, fetched_at=_iso(fetched_at))
    view["reason"] = outcome.reason
    facts = outcome.facts
    if facts is not None:
        declared = normalize_declared(facts.license_raw) if facts.license_raw else None
        view.update(
            license=declared.expression if declared and declared.known else None,
            license_raw=facts.license_raw,
            released_at=_iso(facts.released_at),
            yanked=facts.yanked,
            yanked_reason=facts.yanked_reason,
            deprecated=facts.deprecated,
            homepage=facts.homepage,
            repository=facts.repository,
            dependencies=msgspec.to_builtins(facts.dependencies),
            install_scripts=msgspec.to_builtins(facts.install_scripts),
            files=[
                {"filename": f.filename, "kind": f.kind}
                | ({"sha256": f.sha256} if f.sha256 else {})
                | ({"integrity": f.integrity} if f.integrity else {})
                for f in facts.files
            ],
        )
    view["license_from_upstream"] = license_from_upstream
    return view


_VERSIONS = (
    select(
        pv.c.id,
        pv.c.ecosystem,
        pv.c.name,
        pv.c.version,
        pv.c.license,
        pv.c.repository,
        ur.c.failures,
        ur.c.facts,
    )
    .select_from(pv.outerjoin(ur, ur.c.version_id == pv.c.id))
    .where(pv.c.id.in_(bindparam("ids", expanding=True)))
)
_SET_LICENSE_SQL = "UPDATE package_versions SET license = :license WHERE id = :id"


def store(
    conn: Connection,
    version_id: int,
    outcome: Outcome,
    signal_policy: rules.SignalPolicy,
    *,
    now: datetime | None = None,
) -> list[rules.Signal]:
    """Store an outcome and the signals it gives; schedule a retry when unavailable.

    Returns the signals (none when the version is gone). See :func:`store_many`.
    """
    return store_many(conn, [(version_id, outcome)], signal_policy, now=now).get(version_id, [])


def store_many(
    conn: Connection,
    outcomes: Sequence[tuple[int, Outcome]],
    signal_policy: rules.SignalPolicy,
    *,
    now: datetime | None = None,
) -> dict[int, list[rules.Signal]]:
    """Store the outcomes of distinct versions and their signals; schedule retries.

    Returns each stored version's signals (versions gone are left out). A
    version without a submitted license takes upstream's (normalised, else
    verbatim, which the policy counts as unknown). The versions are read in one
    statement and written in one per kind of write, however many they are.
    """
    now = now or utcnow()
    stored: dict[int, list[rules.Signal]] = {}
    for start in range(0, len(outcomes), 500):
        stored |= _store_chunk(conn, outcomes[start : start + 500], signal_policy, now)
    return stored


def _store_chunk(
    conn: Connection,
    outcomes: Sequence[tuple[int, Outcome]],
    signal_policy: rules.SignalPolicy,
    now: datetime,
) -> dict[int, list[rules.Signal]]:
    rows = {r.id: r for r in conn.execute(_VERSIONS, {"ids": [v for v, _ in outcomes]})}
    # The typosquat indexes of each ecosystem, read once for the chunk.
    indexes = {
        eco: (popular_index(eco), approved_index(conn, eco))
        for eco in sorted({r.ecosystem for r in rows.values()})
    }
    licenses: list[dict[str, Any]] = []
    upserts: list[dict[str, Any]] = []
    retries: list[tuple[int, int]] = []
    found: dict[int, list[rules.Signal]] = {}
    for version_id, outcome in outcomes:
        row = rows.get(version_id)
        if row is None:
            continue
        stored_facts = json.loads(row.facts) if isinstance(row.facts, str | bytes) else row.facts
        # The license the submitter gave: the column, unless an earlier enrichment filled it.
        earlier_from_upstream = isinstance(stored_facts, dict) and stored_facts.get(
            "license_from_upstream"
        )
        submitted = None if earlier_from_upstream else row.license
        facts = outcome.facts
        raw_license = facts.license_raw.strip() if facts and facts.license_raw else None
        from_upstream = submitted is None and raw_license is not None
        view = upstream_view(outcome, now, from_upstream)
        if from_upstream:
            used = view["license"] or raw_license
            if used != row.license:
                licenses.append({"id": version_id, "license": used})
        version_facts = rules.VersionFacts(
            ecosystem=row.ecosystem,
            name=row.name,
            version=row.version,
            status=outcome.status,
            submitted_license=submitted,
            upstream_license_raw=raw_license,
            upstream_license=view["license"],
            license_from_upstream=from_upstream,
            released_at=facts.released_at if facts else None,
            yanked=view["yanked"],
            yanked_reason=view["yanked_reason"],
            deprecated=view["deprecated"],
            install_scripts=tuple((s.name, s.command) for s in facts.install_scripts)
            if facts
            else (),
            file_kinds=tuple(f.kind for f in facts.files) if facts else (),
            repository=view["repository"],
            submitted_repository=row.repository,
            typosquat=_typosquat(*indexes[row.ecosystem], row.name),
            source=outcome.source,
        )
        signals = rules.compute(version_facts, signal_policy, now)
        failures = (int(row.failures or 0) + 1) if outcome.status == "unavailable" else 0
        upserts.append(
            {
                "version_id": version_id,
                "status": outcome.status,
                "reason": outcome.reason,
                "source": outcome.source,
                "fetched_at": now,
                "facts": view,
                "signals": [s.to_dict() for s in signals],
                "failures": failures,
            }
        )
        if outcome.status == "unavailable" and failures <= len(RETRY_DELAYS):
            retries.append((version_id, RETRY_DELAYS[failures - 1]))
        found[version_id] = signals
    plain_sql_many(conn, _SET_LICENSE_SQL, licenses)
    # One row per version, replaced at each enrichment.
    upsert_rows(conn, ur, upserts, key="version_id")
    for version_id, delay in retries:
        request_enrichment(conn, version_id, delay_seconds=delay)
    return found


class EnrichmentState(NamedTuple):
    """What the policy reads of a version's enrichment."""

    status: str
    reason: str | None
    signals: list[rules.Signal]
    #: Whether the version has an ``upstream_records`` row (an enrichment stored).
    stored: bool


_STATES = (
    select(pv.c.id, pv.c.ecosystem, ur.c.version_id, ur.c.status, ur.c.reason, ur.c.signals)
    .select_from(pv.outerjoin(ur, ur.c.version_id == pv.c.id))
    .where(pv.c.id.in_(bindparam("ids", expanding=True)))
)


def states(conn: Connection, version_ids: Sequence[int]) -> dict[int, EnrichmentState]:
    """The enrichment state of each stored version: status, reason, stored signals.

    Without a row: ``pending`` when its ecosystem's upstream is configured (the
    job is queued), else ``not_configured``. Versions gone are left out.
    """
    upstreams = config()
    found: dict[int, EnrichmentState] = {}
    ids = list(version_ids)
    for start in range(0, len(ids), 500):
        for row in conn.execute(_STATES, {"ids": ids[start : start + 500]}):
            if row.version_id is None:
                configured = upstreams.url(str(row.ecosystem)) is not None
                status = "pending" if configured else "not_configured"
                found[row.id] = EnrichmentState(status, None, [], stored=False)
                continue
            kept = row.signals
            kept = json.loads(kept) if isinstance(kept, str | bytes) else kept
            signals = [rules.Signal(s["code"], s["level"], s["message"]) for s in kept or []]
            found[row.id] = EnrichmentState(row.status, row.reason, signals, stored=True)
    return found


def relevel_many(
    conn: Connection,
    signals: Mapping[int, list[rules.Signal]],
    signal_policy: rules.SignalPolicy,
) -> dict[int, list[rules.Signal]]:
    """Each version's signals with the levels ``signal_policy`` gives; the changed stored again."""
    leveled = {
        version_id: [rules.Signal(s.code, signal_policy.level(s.code), s.message) for s in found]
        for version_id, found in signals.items()
    }
    update_rows(
        conn,
        ur,
        [
            {"version_id": version_id, "signals": [s.to_dict() for s in new]}
            for version_id, new in leveled.items()
            if new != signals[version_id]
        ],
        key="version_id",
    )
    return leveled


def select_versions(
    conn: Connection, ecosystem: str, name: str, version: str | None = None
) -> list[tuple[int, str]]:
    """(id, version) of the versions to enrich: the one named, else every version of the name.

    Raises the domain's 400 for an unknown ecosystem or an invalid name, 404
    for a package or version the registry does not hold.
    """
    from foss_registry.packages import service as packages

    if version is not None:
        version_id = packages.select_version_id(conn, name, ecosystem=ecosystem, version=version)
        row = conn.execute(select(pv.c.version).where(pv.c.id == version_id)).scalar_one()
        return [(version_id, str(row))]
    eco, _, normalized, _ = packages.identify(ecosystem, name, "1.0.0")
    rows = conn.execute(
        select(pv.c.id, pv.c.version)
        .where(pv.c.ecosystem == eco.name, pv.c.normalized_name == normalized)
        .order_by(pv.c.id)
    ).all()
    if not rows:
        raise NotFoundError(
            f"No package named {name!r} is in the registry in {eco.name}.",
            code="package_not_found",
        )
    return [(int(r.id), str(r.version)) for r in rows]


def enrich_again(
    conn: Connection, ecosystem: str, name: str, version: str | None = None
) -> EnrichResult:
    """Queue the enrichment of the version named, else of every version of the name."""
    versions = select_versions(conn, ecosystem, name, version)
    for version_id, _ in versions:
        request_enrichment(conn, version_id)
    return EnrichResult(
        ecosystem=ecosystem.strip().lower(),
        name=name,
        queued=[queued for _, queued in versions],
    )


def all_versions(conn: Connection, ecosystem: str | None = None) -> list[tuple[int, str]]:
    """(id, version) of every stored version, of one ecosystem or all, oldest first."""
    query = select(pv.c.id, pv.c.version).order_by(pv.c.id)
    if ecosystem is not None:
        from foss_registry import ecosystems

        query = query.where(pv.c.ecosystem == ecosystems.get(ecosystem).name)
    return [(int(r.id), str(r.version)) for r in conn.execute(query)]


def fetch_many(
    engine: Engine,
    version_ids: list[int],
    *,
    concurrency: int = 8,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[int, Outcome]]:
    """Ask the upstreams about many versions at once (``concurrency`` requests in flight)."""
    with read_connection(engine) as conn:
        known = version_identities(conn, version_ids)
    # The versions of one name side by side: their reader asks for its document once.
    identities = sorted(
        ((vid, ident) for vid in version_ids if (ident := known.get(vid)) is not None),
        key=lambda item: (item[1][0], item[1][1].lower(), item[0]),
    )
    upstreams = config()
    cache_dir = get_settings().upstream_cache_dir
    client = shared(upstreams.limits, str(cache_dir) if cache_dir else None)
    limit = asyncio.Semaphore(concurrency)
    readers: dict[str, Upstream] = {}

    async def one(version_id: int, identity: tuple[str, str, str]) -> tuple[int, Outcome]:
        async with limit:
            outcome = await fetch_async(upstreams, client.http, *identity, readers=readers)
        if progress is not None:
            progress(1)
        return version_id, outcome

    async def every() -> list[tuple[int, Outcome]]:
        return list(await asyncio.gather(*(one(vid, ident) for vid, ident in identities)))

    return client.call(every)
