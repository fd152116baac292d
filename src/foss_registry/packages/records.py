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
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Generator, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Connection

from foss_registry import ecosystems
from foss_registry.ecosystems import Ecosystem
from foss_registry.errors import FieldError, InvalidInputError, NotFoundError

T = TypeVar("T")

#: Runs one SQL statement with ``:name`` parameters and returns every row.
Reader = Callable[[str, dict[str, Any]], Sequence[Sequence[Any]]]

_NAMED = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


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


def iso(value: datetime | str | None) -> str | None:
    """Format a timestamp the way the API shows it: ISO 8601 in UTC with ``Z``.

    Accepts the datetime PostgreSQL returns and the text SQLite stores
    (``YYYY-MM-DD HH:MM:SS.ffffff``, always UTC in this database).
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value[:10] + "T" + value[11:19] + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


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


def _candidates_sql(count: int) -> str:
    pairs = " OR ".join(f"(ecosystem = :e{i} AND normalized_name = :n{i})" for i in range(count))
    return (
        "SELECT ecosystem, id, canonical_version, version, status, normalized_name "
        f"FROM package_versions WHERE {pairs} ORDER BY sort_token DESC, id DESC"
    )


_CANDIDATES_SQL = {n: _candidates_sql(n) for n in range(1, len(ecosystems.NAMES) + 1)}

#: The stored columns of a record (all its fields but versions, reviews, upstream, signals).
RECORD_COLUMNS = (
    "name",
    "version",
    "ecosystem",
    "status",
    "license",
    "description",
    "homepage",
    "repository",
    "submitted_by",
    "submitted_at",
    "approved_by",
    "approved_at",
    "rejected_by",
    "rejected_at",
    "rejection_reason",
    "justification",
    "purl",
    "flags",
    "policy_reasons",
    "resolved",
    "integrity",
)
_RECORD_SQL = f"SELECT {', '.join(RECORD_COLUMNS)} FROM package_versions WHERE id = :id"
#: The columns of a review row (``_REVIEWS_SQL``), as the record names them.
REVIEW_COLUMNS = ("decision", "by", "at", "comment", "reasons", "scan_status", "acknowledged")
_REVIEWS_SQL = (
    'SELECT decision, "by", at, comment, reasons, scan_status, acknowledged FROM reviews '
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

    Each row starts with ``ecosystem, id, canonical_version, version, status``.
    """
    if not rows:
        raise _not_found(name, ecosystem)
    found = sorted({r[0] for r in rows})
    if len(found) > 1:
        listed = ", ".join(found)
        raise InvalidInputError(
            f"The name {name!r} exists in several ecosystems ({listed}); "
            "add ?ecosystem= to choose one.",
            code="ambiguous_package",
            errors=[FieldError("ecosystem", f"one of {listed}")],
        )
    eco: Ecosystem = ecosystems.get(found[0])
    versions = [(r[3], r[4]) for r in rows]
    if version is None:
        # Rows come highest first (unordered Docker tags: newest submission first).
        return int(rows[0][1]), versions
    try:
        canonical = eco.canonical_version(version)
    except InvalidInputError as exc:
        raise field_error(exc, "version") from None
    for row in rows:
        if row[2] == canonical:
            return int(row[1]), versions
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


def _build_steps(version_id: int, versions: list[tuple[str, str]]) -> Steps[dict[str, Any]]:
    row = (yield _RECORD_SQL, {"id": version_id})[0]
    history = yield _REVIEWS_SQL, {"id": version_id}
    upstream = yield _UPSTREAM_SQL, {"id": version_id}
    columns = dict(zip(RECORD_COLUMNS, row, strict=True))
    return record_from_row(columns, versions, history, upstream[0] if upstream else None)


def record_steps(
    name: str, ecosystem: str | None = None, version: str | None = None
) -> Steps[dict[str, Any]]:
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
    record = ", ".join(f'r."{c}"' for c in RECORD_COLUMNS)
    review = ", ".join(f'v."{c}"' for c in REVIEW_COLUMNS)
    return (
        "WITH c AS (SELECT ecosystem, id, canonical_version, version, status, sort_token, "
        f"row_number() OVER (ORDER BY (canonical_version = CASE ecosystem {asked} END) "
        "IS TRUE DESC, sort_token DESC, id DESC) AS pick "
        f"FROM package_versions WHERE {pairs}) "
        f"SELECT c.ecosystem, c.id, c.canonical_version, c.version, c.status, r.id, {record}, "
        f"(SELECT json_agg(json_build_array({review}) ORDER BY v.id) FROM reviews v "
        "WHERE v.version_id = r.id), u.version_id, "
        f"{', '.join(f'u.{c}' for c in UPSTREAM_COLUMNS)}, "
        "CAST(pg_current_snapshot() AS text) "
        "FROM c LEFT JOIN package_versions r ON r.id = c.id AND c.pick = 1 "
        "LEFT JOIN upstream_records u ON u.version_id = r.id "
        "ORDER BY c.sort_token DESC, c.id DESC"
    )


_ONE_STATEMENT_SQL = {n: _one_statement_sql(n) for n in range(1, len(ecosystems.NAMES) + 1)}
_DETAIL_START = 6  # the record's columns start after the candidate's five and its id


def one_statement_record_steps(
    name: str, ecosystem: str | None = None, version: str | None = None
) -> Steps[tuple[dict[str, Any], str | None]]:
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
    detail = next((row for row in rows if row[5] is not None), None)
    if detail is None or detail[5] != version_id:
        return (yield from _build_steps(version_id, versions)), None
    after = _DETAIL_START + len(RECORD_COLUMNS)
    columns = dict(zip(RECORD_COLUMNS, detail[_DETAIL_START:after], strict=True))
    history = [list(review) for review in detail[after] or ()]
    upstream_row = detail[after + 2 : after + 2 + len(UPSTREAM_COLUMNS)]
    upstream = upstream_row if detail[after + 1] is not None else None
    return record_from_row(columns, versions, history, upstream), str(detail[-1])


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
) -> dict[str, Any]:
    """Return the full record of the selected version of a package."""
    return run(read, record_steps(name, ecosystem, version))


def select_with_versions(
    read: Reader, name: str, ecosystem: str | None, version: str | None
) -> tuple[int, list[tuple[str, str]]]:
    """The selected version's id and every ``(version, status)`` of its package, highest first.

    With :func:`record_of`, what :func:`record` does, for callers that need the id too.
    """
    return run(read, _select_steps(name, ecosystem, version))


def record_of(read: Reader, version_id: int, versions: list[tuple[str, str]]) -> dict[str, Any]:
    """The full record of a version selected by :func:`select_with_versions`."""
    return run(read, _build_steps(version_id, versions))


def record_by_id(read: Reader, version_id: int) -> dict[str, Any]:
    """Return the full record of one version by its id."""
    columns = dict(zip(RECORD_COLUMNS, read(_RECORD_SQL, {"id": version_id})[0], strict=True))
    return record(read, columns["name"], ecosystem=columns["ecosystem"], version=columns["version"])


def _json_object(value: Any) -> dict[str, Any]:
    if isinstance(value, str | bytes):
        return dict(json.loads(value))
    return dict(value or {})


def upstream_fields(
    ecosystem: str, upstream: Sequence[Any] | None
) -> tuple[dict[str, Any], list[Any]]:
    """A record's ``upstream`` object and ``signals`` list from its ``upstream_records`` row.

    Without a row (not enriched yet) every field is empty and the status is
    ``pending`` where the ecosystem's upstream is configured, else ``not_configured``.
    """
    if upstream is None:
        from foss_registry.config import get_settings

        configured = getattr(get_settings(), f"upstream_{ecosystem}", None)
        return _UPSTREAM_FIELDS | {"status": "pending" if configured else "not_configured"}, []
    stored = dict(zip(UPSTREAM_COLUMNS, upstream, strict=True))
    facts = _UPSTREAM_FIELDS | _json_object(stored["facts"])
    facts["status"] = stored["status"]
    return facts, _json_list(stored["signals"])


#: Stored as text (SQLite) or timestamps; shown as ISO 8601 in UTC.
_TIMESTAMP_COLUMNS = ("submitted_at", "approved_at", "rejected_at")
#: Stored as JSON arrays.
_LIST_COLUMNS = ("flags", "policy_reasons")


def record_from_row(
    columns: Mapping[str, Any],
    versions: list[tuple[str, str]],
    history: Sequence[Sequence[Any]],
    upstream: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Build a version's record from its columns, its package's versions and its reviews.

    ``columns`` maps each of :data:`RECORD_COLUMNS` to its stored value;
    ``versions`` every ``(version, status)`` of the package, highest first;
    ``history`` the review rows (:data:`REVIEW_COLUMNS`), oldest first;
    ``upstream`` its ``upstream_records`` row (``_UPSTREAM_SQL``) if any. The one
    place the record's shape is written down: the submission path builds the
    record of the row it has just inserted with it too.
    """
    record = {column: columns.get(column) for column in RECORD_COLUMNS}
    for column in _TIMESTAMP_COLUMNS:
        record[column] = iso(record[column])
    for column in _LIST_COLUMNS:
        record[column] = _json_list(record[column])
    record["versions"] = [{"version": v, "status": s} for v, s in versions]
    reviews = []
    for row in history:
        review = dict(zip(REVIEW_COLUMNS, row, strict=True))
        review["at"] = iso(review["at"])
        review["reasons"] = _json_list(review["reasons"])
        review["acknowledged"] = _json_list(review["acknowledged"])
        reviews.append(review)
    record["reviews"] = reviews
    record["upstream"], record["signals"] = upstream_fields(str(record["ecosystem"]), upstream)
    return record
