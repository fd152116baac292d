"""The hot read path: select a package version and build its record in plain SQL.

``GET /packages/{name}`` is the most frequent request. Building SQLAlchemy
expressions costs more than the indexed lookups themselves, so the lookup is
plain, indexed SQL, written once as :data:`Steps` (the statements a read needs,
without doing any I/O) and run by a driver: on SQLite the API runs them on a
read-only ``sqlite3`` connection straight from the event loop (sub-millisecond
point reads, DESIGN "Handlers and the event loop"); on PostgreSQL the API runs
them as one statement on an asynchronous psycopg connection
(:func:`one_statement_record_steps`); everywhere else in the services they run
on a SQLAlchemy connection (:func:`run`). One selection and one record builder
serve every path, so they cannot drift apart.

The record's shape is written once, here, as msgspec Structs (:class:`PackageRecord`
and its parts): the services return it, the API answers with it (and documents it),
the pages show it. Its field order is the order of the JSON every path encodes.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Generator, Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import msgspec
from msgspec import Struct
from sqlalchemy import Connection

from foss_registry import ecosystems
from foss_registry.db import iso
from foss_registry.ecosystems import Ecosystem
from foss_registry.errors import FieldError, InvalidInputError, NotFoundError

T = TypeVar("T")

#: Runs one SQL statement with ``:name`` parameters and returns every row.
Reader = Callable[[str, dict[str, Any]], Sequence[Sequence[Any]]]

_NAMED = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


class VersionStatus(Struct, frozen=True):
    """One known version of a package and its status."""

    version: str
    status: str


class ReviewEntry(Struct, frozen=True):
    """One decision in a version's history (``by`` is ``policy`` for automatic ones)."""

    decision: str
    by: str
    at: str
    comment: str | None
    reasons: list[str]
    #: The version's scan status when the decision was made (null for older decisions).
    scan_status: str | None
    #: Ids of the open findings the approval acknowledged.
    acknowledged: list[str]


class UpstreamDependency(Struct, frozen=True):
    """A dependency as upstream declares it; ``scope`` runtime, optional, dev or test."""

    name: str
    requirement: str
    scope: str


class InstallScriptInfo(Struct, frozen=True):
    """A command the package manager runs at install (``name`` e.g. ``postinstall``)."""

    name: str
    command: str


class UpstreamFileInfo(Struct, frozen=True, omit_defaults=True):
    """A file of the version upstream: ``kind`` wheel, sdist, tarball, jar or pom."""

    filename: str
    kind: str
    sha256: str | None = None
    integrity: str | None = None


class UpstreamInfo(Struct, frozen=True):
    """What the ecosystem's registry says about the version (DESIGN "Details of the upstream
    record"); ``status`` ok, not_found, unavailable, not_configured or pending."""

    status: str
    source: str | None
    fetched_at: str | None
    license: str | None
    license_raw: str | None
    released_at: str | None
    yanked: bool
    yanked_reason: str | None
    deprecated: str | None
    homepage: str | None
    repository: str | None
    dependencies: list[UpstreamDependency]
    install_scripts: list[InstallScriptInfo]
    files: list[UpstreamFileInfo]
    #: Why the upstream was unavailable or what it did not know, else null.
    reason: str | None
    #: True when no license was submitted and upstream's is the version's license.
    license_from_upstream: bool


class SignalInfo(Struct, frozen=True):
    """A risk signal: ``code``, ``level`` (info, review, block) and a message for a reviewer."""

    code: str
    level: str
    message: str


class PackageRecord(Struct, frozen=True):
    """The full record of one package version (``GET /packages/{name}``)."""

    name: str
    version: str
    ecosystem: str
    status: str
    license: str | None
    description: str | None
    homepage: str | None
    repository: str | None
    submitted_by: str
    submitted_at: str
    approved_by: str | None
    approved_at: str | None
    rejected_by: str | None
    rejected_at: str | None
    rejection_reason: str | None
    justification: str | None
    purl: str
    flags: list[str]
    policy_reasons: list[str]
    #: The URL a lockfile resolved the version from.
    resolved: str | None
    #: Its integrity digest as lockfiles write it (``sha512-<base64>``).
    integrity: str | None
    #: Every version of the package, highest first.
    versions: list[VersionStatus]
    #: The decisions, oldest first.
    reviews: list[ReviewEntry]
    upstream: UpstreamInfo
    signals: list[SignalInfo]


class PackageSummary(Struct, frozen=True):
    """One package version in a list."""

    name: str
    version: str
    ecosystem: str
    status: str
    license: str | None


class PackageList(Struct, frozen=True):
    """A page of package versions; ``total`` counts every match."""

    packages: list[PackageSummary]
    total: int
    limit: int
    offset: int


@lru_cache(maxsize=256)
def pyformat(sql: str) -> str:
    """The statement with psycopg's ``%(name)s`` parameters instead of ``:name``."""
    return _NAMED.sub(r"%(\1)s", sql)


def sqlalchemy_reader(conn: Connection) -> Reader:
    """A reader on a SQLAlchemy connection (any backend)."""
    if conn.dialect.name == "sqlite":
        return lambda sql, params: conn.exec_driver_sql(sql, params).all()
    return lambda sql, params: conn.exec_driver_sql(pyformat(sql), params).all()


def sqlite_reader(raw: sqlite3.Connection) -> Reader:
    """A reader on a plain ``sqlite3`` connection."""
    return lambda sql, params: raw.execute(sql, params).fetchall()


def _json_list(value: Any) -> list[Any]:
    if value is None or value == "[]":
        return []
    if isinstance(value, str | bytes):
        return list(json.loads(value))
    return list(value)


def field_error(exc: InvalidInputError, field: str) -> InvalidInputError:
    """Attach the field name to an error raised by an ecosystem check."""
    if not exc.errors:
        exc.errors = [FieldError(field, exc.detail)]
    return exc


@lru_cache(maxsize=8192)
def _forms(name: str, ecosystem: str | None) -> dict[str, str]:
    """The normalised name in each ecosystem where ``name`` is valid (callers must not mutate).

    Cached: normalising a name in four ecosystems costs more than the lookup.
    """
    if ecosystem is not None:
        try:
            eco = ecosystems.get(ecosystem)
        except InvalidInputError as exc:
            raise field_error(exc, "ecosystem") from None
        return {eco.name: eco.normalize_name(name)}
    forms: dict[str, str] = {}
    for eco_name in ecosystems.NAMES:
        try:
            forms[eco_name] = ecosystems.get(eco_name).normalize_name(name)
        except InvalidInputError:
            continue
    return forms


#: The columns of a candidate row, in the order the statements list them; a row is read
#: by these names (their places below), so a column added here shifts nothing.
CANDIDATE_COLUMNS = ("ecosystem", "id", "canonical_version", "version", "status")
_ECOSYSTEM, _ID, _CANONICAL, _VERSION, _STATUS = (
    CANDIDATE_COLUMNS.index(c)
    for c in ("ecosystem", "id", "canonical_version", "version", "status")
)


def _candidates_sql(count: int) -> str:
    pairs = " OR ".join(f"(ecosystem = :e{i} AND normalized_name = :n{i})" for i in range(count))
    return (
        f"SELECT {', '.join(CANDIDATE_COLUMNS)} "
        f"FROM package_versions WHERE {pairs} ORDER BY sort_token DESC, id DESC"
    )


_CANDIDATES_SQL = {n: _candidates_sql(n) for n in range(1, len(ecosystems.NAMES) + 1)}

#: The fields of a record that are not columns of ``package_versions``.
_DERIVED_FIELDS = ("versions", "reviews", "upstream", "signals")
#: The stored columns of a record (all its fields but versions, reviews, upstream, signals),
#: named as the record names them and in its order.
RECORD_COLUMNS = tuple(f for f in PackageRecord.__struct_fields__ if f not in _DERIVED_FIELDS)
_RECORD_SQL = f"SELECT {', '.join(RECORD_COLUMNS)} FROM package_versions WHERE id = :id"
#: The columns of a review row (``_REVIEWS_SQL``): the fields of a history entry.
REVIEW_COLUMNS: tuple[str, ...] = ReviewEntry.__struct_fields__
_REVIEWS_SQL = (
    "SELECT " + ", ".join(f'"{c}"' for c in REVIEW_COLUMNS) + " FROM reviews "
    "WHERE version_id = :id ORDER BY id"
)
#: The columns of a version's ``upstream_records`` row that a record shows.
UPSTREAM_COLUMNS = ("status", "facts", "signals")
_UPSTREAM_SQL = f"SELECT {', '.join(UPSTREAM_COLUMNS)} FROM upstream_records WHERE version_id = :id"
#: The facts of a record's ``upstream`` object before any enrichment (enrichment stores
#: the same fields, so a stored record shows every one whatever upstream knew).
EMPTY_UPSTREAM_FACTS: dict[str, Any] = {
    "source": None,
    "fetched_at": None,
    "license": None,
    "license_raw": None,
    "released_at": None,
    "yanked": False,
    "yanked_reason": None,
    "deprecated": None,
    "homepage": None,
    "repository": None,
    "dependencies": [],
    "install_scripts": [],
    "files": [],
}
#: Every field of a record's ``upstream`` object, as it is before any enrichment.
_UPSTREAM_FIELDS: dict[str, Any] = {
    "status": "pending",
    **EMPTY_UPSTREAM_FACTS,
    "reason": None,
    "license_from_upstream": False,
}


#: A statement to run: plain SQL with ``:name`` parameters, and the parameters.
Query = tuple[str, dict[str, Any]]
Rows = Sequence[Sequence[Any]]
#: How a read is done without doing any I/O: a generator that yields each statement it
#: needs and is sent back its rows, and returns what it read. A driver runs it on a
#: connection: :func:`run` on any :data:`Reader`, or an asynchronous driver
#: (:mod:`foss_registry.api.postgres_reads`). So every backend and every caller shares
#: one selection and one record builder.
Steps = Generator[Query, Rows, T]


def run(read: Reader, steps: Steps[T]) -> T:
    """Run a read's steps on a synchronous reader and return its result."""
    try:
        query = next(steps)
        while True:
            query = steps.send(read(*query))
    except StopIteration as done:
        return done.value


def _candidate_params(forms: dict[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, (eco_name, normalized) in enumerate(forms.items()):
        params[f"e{i}"] = eco_name
        params[f"n{i}"] = normalized
    return params


def _not_found(name: str, ecosystem: str | None) -> NotFoundError:
    where = f" in {ecosystem}" if ecosystem else ""
    return NotFoundError(
        f"No package named {name!r} is in the registry{where}.", code="package_not_found"
    )


def _choose(
    rows: Rows, name: str, ecosystem: str | None, version: str | None
) -> tuple[int, list[tuple[str, str]]]:
    """From the candidate rows, highest first, the selected version's id and every version.

    Each row starts with the :data:`CANDIDATE_COLUMNS`.
    """
    if not rows:
        raise _not_found(name, ecosystem)
    found = sorted({r[_ECOSYSTEM] for r in rows})
    if len(found) > 1:
        listed = ", ".join(found)
        raise InvalidInputError(
            f"The name {name!r} exists in several ecosystems ({listed}); "
            "add ?ecosystem= to choose one.",
            code="ambiguous_package",
            errors=[FieldError("ecosystem", f"one of {listed}")],
        )
    eco: Ecosystem = ecosystems.get(found[0])
    versions = [(r[_VERSION], r[_STATUS]) for r in rows]
    if version is None:
        # Rows come highest first (unordered Docker tags: newest submission first).
        return int(rows[0][_ID]), versions
    try:
        canonical = eco.canonical_version(version)
    except InvalidInputError as exc:
        raise field_error(exc, "version") from None
    for row in rows:
        if row[_CANONICAL] == canonical:
            return int(row[_ID]), versions
    raise NotFoundError(
        f"{eco.name} package {name!r} has no version {version!r} in the registry.",
        code="version_not_found",
    )


def _select_steps(
    name: str, ecosystem: str | None, version: str | None
) -> Steps[tuple[int, list[tuple[str, str]]]]:
    """The selected version's id and every version of its package, highest first."""
    forms = _forms(name, ecosystem)
    rows: Rows = []
    if forms:
        rows = yield _CANDIDATES_SQL[len(forms)], _candidate_params(forms)
    return _choose(rows, name, ecosystem, version)


def _build_steps(version_id: int, versions: list[tuple[str, str]]) -> Steps[PackageRecord]:
    row = (yield _RECORD_SQL, {"id": version_id})[0]
    history = yield _REVIEWS_SQL, {"id": version_id}
    upstream = yield _UPSTREAM_SQL, {"id": version_id}
    columns = dict(zip(RECORD_COLUMNS, row, strict=True))
    return record_from_row(columns, versions, history, upstream[0] if upstream else None)


def record_steps(
    name: str, ecosystem: str | None = None, version: str | None = None
) -> Steps[PackageRecord]:
    """The steps of reading the full record of the selected version (four point reads)."""
    version_id, versions = yield from _select_steps(name, ecosystem, version)
    return (yield from _build_steps(version_id, versions))


def _one_statement_sql(count: int) -> str:
    """The candidates of ``count`` (ecosystem, name) forms with the selected one's record.

    PostgreSQL only. Each candidate row has the columns of :func:`_candidates_sql`;
    the one that would be selected (the version asked for, else the highest) also
    has its record's columns, its reviews as one JSON array and its upstream row;
    every row ends with the snapshot the statement read in (``pg_current_snapshot()``).
    """
    pairs = " OR ".join(f"(ecosystem = :e{i} AND normalized_name = :n{i})" for i in range(count))
    asked = " ".join(f"WHEN :e{i} THEN CAST(:c{i} AS text)" for i in range(count))
    candidate = ", ".join(CANDIDATE_COLUMNS)
    record = ", ".join(f'r."{c}"' for c in RECORD_COLUMNS)
    review = ", ".join(f'v."{c}"' for c in REVIEW_COLUMNS)
    # The columns in the order of _ONE_STATEMENT_COLUMNS.
    return (
        f"WITH c AS (SELECT {candidate}, sort_token, "
        f"row_number() OVER (ORDER BY (canonical_version = CASE ecosystem {asked} END) "
        "IS TRUE DESC, sort_token DESC, id DESC) AS pick "
        f"FROM package_versions WHERE {pairs}) "
        f"SELECT {', '.join(f'c.{c}' for c in CANDIDATE_COLUMNS)}, r.id, {record}, "
        f"(SELECT json_agg(json_build_array({review}) ORDER BY v.id) FROM reviews v "
        "WHERE v.version_id = r.id), u.version_id, "
        f"{', '.join(f'u.{c}' for c in UPSTREAM_COLUMNS)}, "
        "CAST(pg_current_snapshot() AS text) "
        "FROM c LEFT JOIN package_versions r ON r.id = c.id AND c.pick = 1 "
        "LEFT JOIN upstream_records u ON u.version_id = r.id "
        "ORDER BY c.sort_token DESC, c.id DESC"
    )


_ONE_STATEMENT_SQL = {n: _one_statement_sql(n) for n in range(1, len(ecosystems.NAMES) + 1)}
#: The columns of a row of the one statement, by name: a candidate's, the selected
#: version's id (null on the other rows), its record's columns, its reviews, its upstream
#: row's id and columns, and the snapshot.
_ONE_STATEMENT_COLUMNS = (
    *CANDIDATE_COLUMNS,
    "detail_id",
    *RECORD_COLUMNS,
    "reviews",
    "upstream_id",
    *(f"upstream_{c}" for c in UPSTREAM_COLUMNS),
    "snapshot",
)
_AT = {column: place for place, column in enumerate(_ONE_STATEMENT_COLUMNS)}
_DETAIL_ID, _REVIEWS, _UPSTREAM_ID, _SNAPSHOT = (
    _AT[c] for c in ("detail_id", "reviews", "upstream_id", "snapshot")
)
_RECORD_PLACES = slice(_AT[RECORD_COLUMNS[0]], _AT[RECORD_COLUMNS[-1]] + 1)
_UPSTREAM_PLACES = slice(
    _AT[f"upstream_{UPSTREAM_COLUMNS[0]}"], _AT[f"upstream_{UPSTREAM_COLUMNS[-1]}"] + 1
)


def one_statement_record_steps(
    name: str, ecosystem: str | None = None, version: str | None = None
) -> Steps[tuple[PackageRecord, str | None]]:
    """What :func:`record_steps` reads, in one statement on PostgreSQL, and the snapshot
    that statement read in (for a cache: the record is exactly the data of that snapshot).

    The statement picks the version the selection will pick (the canonical form
    of ``version`` is worked out here for each ecosystem the name is valid in);
    the selection itself, its errors and the record's shape are the same code as
    on every other path. Should the two ever disagree, the record is read by id
    after all (and the snapshot is None).
    """
    forms = _forms(name, ecosystem)
    if not forms:
        raise _not_found(name, ecosystem)
    params = _candidate_params(forms)
    for i, eco_name in enumerate(forms):
        params[f"c{i}"] = _canonical_or_none(eco_name, version)
    rows = yield _ONE_STATEMENT_SQL[len(forms)], params
    version_id, versions = _choose(rows, name, ecosystem, version)
    detail = next((row for row in rows if row[_DETAIL_ID] is not None), None)
    if detail is None or detail[_DETAIL_ID] != version_id:
        return (yield from _build_steps(version_id, versions)), None
    columns = dict(zip(RECORD_COLUMNS, detail[_RECORD_PLACES], strict=True))
    history = [list(review) for review in detail[_REVIEWS] or ()]
    upstream = detail[_UPSTREAM_PLACES] if detail[_UPSTREAM_ID] is not None else None
    return record_from_row(columns, versions, history, upstream), str(detail[_SNAPSHOT])


@lru_cache(maxsize=8192)
def _canonical_or_none(eco_name: str, version: str | None) -> str | None:
    if version is None:
        return None
    try:
        return ecosystems.get(eco_name).canonical_version(version)
    except InvalidInputError:
        return None


def select_id(read: Reader, name: str, ecosystem: str | None, version: str | None) -> int:
    """Return the id of the selected version: the one asked for, else the highest."""
    return run(read, _select_steps(name, ecosystem, version))[0]


def record(
    read: Reader, name: str, *, ecosystem: str | None = None, version: str | None = None
) -> PackageRecord:
    """Return the full record of the selected version of a package."""
    return run(read, record_steps(name, ecosystem, version))


def select_with_versions(
    read: Reader, name: str, ecosystem: str | None, version: str | None
) -> tuple[int, list[tuple[str, str]]]:
    """The selected version's id and every ``(version, status)`` of its package, highest first.

    With :func:`record_of`, what :func:`record` does, for callers that need the id too.
    """
    return run(read, _select_steps(name, ecosystem, version))


def record_of(read: Reader, version_id: int, versions: list[tuple[str, str]]) -> PackageRecord:
    """The full record of a version selected by :func:`select_with_versions`."""
    return run(read, _build_steps(version_id, versions))


def record_by_id(read: Reader, version_id: int) -> PackageRecord:
    """Return the full record of one version by its id."""
    columns = dict(zip(RECORD_COLUMNS, read(_RECORD_SQL, {"id": version_id})[0], strict=True))
    return record(read, columns["name"], ecosystem=columns["ecosystem"], version=columns["version"])


def _typed(value: Any, kind: type[T]) -> T:
    """A stored JSON value (text on SQLite, decoded on PostgreSQL) as the typed ``kind``."""
    if isinstance(value, str | bytes):
        return msgspec.json.decode(value, type=kind)
    return msgspec.convert(value, kind)


def _json_object(value: Any) -> dict[str, Any]:
    if isinstance(value, str | bytes):
        return dict(json.loads(value))
    return dict(value or {})


#: The ``upstream`` of a version not enriched yet, by status (the same for every record).
_NOT_ENRICHED = {
    status: msgspec.convert(_UPSTREAM_FIELDS | {"status": status}, UpstreamInfo)
    for status in ("pending", "not_configured")
}


def upstream_fields(
    ecosystem: str, upstream: Sequence[Any] | None
) -> tuple[UpstreamInfo, list[SignalInfo]]:
    """A record's ``upstream`` object and ``signals`` list from its ``upstream_records`` row.

    Without a row (not enriched yet) every field is empty and the status is
    ``pending`` where the ecosystem's upstream is configured, else ``not_configured``.
    """
    if upstream is None:
        from foss_registry.config import get_settings

        configured = getattr(get_settings(), f"upstream_{ecosystem}", None)
        return _NOT_ENRICHED["pending" if configured else "not_configured"], []
    stored = dict(zip(UPSTREAM_COLUMNS, upstream, strict=True))
    facts = _UPSTREAM_FIELDS | _json_object(stored["facts"])
    facts["status"] = stored["status"]
    signals = _typed(stored["signals"], list[SignalInfo]) if stored["signals"] else []
    return msgspec.convert(facts, UpstreamInfo), signals


def review_entry(row: Sequence[Any]) -> ReviewEntry:
    """A history entry from a review row (:data:`REVIEW_COLUMNS`)."""
    review = dict(zip(REVIEW_COLUMNS, row, strict=True))
    return ReviewEntry(
        decision=review["decision"],
        by=review["by"],
        at=iso(review["at"]) or "",
        comment=review["comment"],
        reasons=_json_list(review["reasons"]),
        scan_status=review["scan_status"],
        acknowledged=_json_list(review["acknowledged"]),
    )


def record_from_row(
    columns: Mapping[str, Any],
    versions: list[tuple[str, str]],
    history: Sequence[Sequence[Any]],
    upstream: Sequence[Any] | None = None,
) -> PackageRecord:
    """Build a version's record from its columns, its package's versions and its reviews.

    ``columns`` maps each of :data:`RECORD_COLUMNS` to its stored value;
    ``versions`` every ``(version, status)`` of the package, highest first;
    ``history`` the review rows (:data:`REVIEW_COLUMNS`), oldest first;
    ``upstream`` its ``upstream_records`` row (``_UPSTREAM_SQL``) if any. The one
    place a record is built: the submission path builds the record of the row it
    has just inserted with it too.
    """
    get: Callable[[str], Any] = columns.get  # a column not given is null
    ecosystem = get("ecosystem")
    upstream_info, signals = upstream_fields(str(ecosystem), upstream)
    return PackageRecord(
        name=get("name"),
        version=get("version"),
        ecosystem=ecosystem,
        status=get("status"),
        license=get("license"),
        description=get("description"),
        homepage=get("homepage"),
        repository=get("repository"),
        submitted_by=get("submitted_by"),
        submitted_at=iso(get("submitted_at")) or "",  # a column that is never null
        approved_by=get("approved_by"),
        approved_at=iso(get("approved_at")),
        rejected_by=get("rejected_by"),
        rejected_at=iso(get("rejected_at")),
        rejection_reason=get("rejection_reason"),
        justification=get("justification"),
        purl=get("purl"),
        flags=_json_list(get("flags")),
        policy_reasons=_json_list(get("policy_reasons")),
        resolved=get("resolved"),
        integrity=get("integrity"),
        versions=[VersionStatus(v, s) for v, s in versions],
        reviews=[review_entry(row) for row in history],
        upstream=upstream_info,
        signals=signals,
    )
