"""Submit, look up, list and search package versions.

Services take a connection inside the caller's transaction and never commit;
they raise domain errors (``foss_registry.errors``) for the edge to translate.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from foss_registry import ecosystems
from foss_registry.db import plain_sql, sql_timestamp, utcnow
from foss_registry.ecosystems import Ecosystem
from foss_registry.errors import ConflictError, FieldError, InvalidInputError
from foss_registry.packages import postgres_word_sets
from foss_registry.packages import records as reads
from foss_registry.packages import search as package_search
from foss_registry.packages.models import package_versions
from foss_registry.packages.records import PackageRecord, field_error
from foss_registry.text_fields import text_problem

pv = package_versions
#: Timestamps as the API shows them (kept here for the services that format records).
iso = reads.iso


@dataclass(frozen=True)
class Submission:
    """A package version as submitted, before validation against its ecosystem."""

    name: str
    version: str
    ecosystem: str
    license: str | None = None
    description: str | None = None
    homepage: str | None = None
    repository: str | None = None
    justification: str | None = None
    #: The URL a lockfile resolved the version from.
    resolved: str | None = None
    #: Its Subresource Integrity digest (``sha512-<base64>``), as lockfiles write it.
    integrity: str | None = None


#: An SRI digest as package-lock.json and yarn.lock write it.
_INTEGRITY = re.compile(r"^(sha1|sha256|sha384|sha512)-[A-Za-z0-9+/]+={0,2}$")


def _check_integrity(value: str | None) -> None:
    if value is None or _INTEGRITY.match(value):
        return
    raise InvalidInputError(
        f"The field 'integrity' must be a digest such as sha512-<base64>, got {value[:100]!r}.",
        code="invalid_integrity",
        errors=[FieldError("integrity", "must be <algorithm>-<base64>, e.g. sha512-...")],
    )


#: Fields of a submission that may hold several lines.
MULTILINE_FIELDS = frozenset({"description", "justification"})
# A host name: letters (any script), digits, dots, hyphens, underscores.
_HOST_RE = re.compile(r"[\w.-]+")


def _check_text(field: str, value: str | None) -> None:
    problem = text_problem(value, multiline=field in MULTILINE_FIELDS) if value else None
    if problem is not None:
        raise InvalidInputError(
            f"The field {field!r} {problem}; remove it and send the request again.",
            code="invalid_input",
            errors=[FieldError(field, problem)],
        )


def check_url(field: str, value: str | None) -> None:
    """Refuse (400, field named) anything but an absolute http(s) URL with a valid host."""
    if value is None:
        return
    try:
        parts = urlsplit(value)
        valid = (
            parts.scheme in ("http", "https")
            and parts.hostname is not None
            and _valid_host(parts.netloc.rpartition("@")[2], parts.hostname, parts.port)
            and not any(char.isspace() for char in value)
            and text_problem(value) is None
        )
    except ValueError:  # a port out of range, an unbalanced bracket
        valid = False
    if not valid:
        raise InvalidInputError(
            f"The field {field!r} must be an http:// or https:// URL, got {value[:100]!r}.",
            code="invalid_url",
            errors=[FieldError(field, "must be an http(s) URL")],
        )


def _valid_host(host_and_port: str, host: str, port: int | None) -> bool:
    """A name or an IPv6 literal in brackets, then an optional port, and nothing else."""
    if host_and_port.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        written = f"[{host}]"
    elif _HOST_RE.fullmatch(host):
        written = host
    else:
        return False
    return host_and_port.lower() == written + ("" if port is None else f":{port}")


def identify(ecosystem: str, name: str, version: str) -> tuple[Ecosystem, str, str, str]:
    """Validate an (ecosystem, name, version) triple.

    Returns the ecosystem, the display name, the normalised name and the
    canonical version; raises InvalidInputError naming the bad field.
    """
    try:
        eco = ecosystems.get(ecosystem)
    except InvalidInputError as exc:
        raise field_error(exc, "ecosystem") from None
    try:
        display = eco.validate_name(name)
        normalized = eco.normalize_name(name)
    except InvalidInputError as exc:
        raise field_error(exc, "name") from None
    try:
        canonical = eco.canonical_version(version)
    except InvalidInputError as exc:
        raise field_error(exc, "version") from None
    return eco, display, normalized, canonical


def identify_package(ecosystem: str, name: str) -> tuple[Ecosystem, str, str]:
    """Validate an (ecosystem, name) pair: the ecosystem, the display and normalised names."""
    try:
        eco = ecosystems.get(ecosystem)
    except InvalidInputError as exc:
        raise field_error(exc, "ecosystem") from None
    try:
        return eco, eco.validate_name(name), eco.normalize_name(name)
    except InvalidInputError as exc:
        raise field_error(exc, "name") from None


def future_expiry(value: datetime | None) -> datetime | None:
    """An ``expires_at`` as aware UTC; 400 naming the field when it is not in the future."""
    if value is None:
        return None
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if moment <= utcnow():
        raise InvalidInputError(
            "expires_at is in the past; give a future time (RFC 3339, e.g. 2030-01-31T00:00:00Z).",
            code="expired",
            errors=[FieldError("expires_at", "must be in the future")],
        )
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class StoredVersion:
    """A version just stored: its id and its full record as ``GET /packages/{name}`` shows it."""

    id: int
    record: PackageRecord


# Plain SQL: this is the hot write path, and compiling SQLAlchemy statements
# costs several times what the database takes to run them.
_PACKAGE_VERSIONS_SQL = (
    "SELECT id, name, version, status, sort_token FROM package_versions "
    "WHERE ecosystem = :ecosystem AND normalized_name = :normalized_name"
)
_INSERT_COLUMNS = (
    "ecosystem",
    "name",
    "normalized_name",
    "version",
    "canonical_version",
    "sort_token",
    "purl",
    "status",
    "license",
    "description",
    "homepage",
    "repository",
    "justification",
    "submitted_by",
    "submitted_at",
    "flags",
    "policy_reasons",
    "resolved",
    "integrity",
)
# A duplicate (ecosystem, normalised name, canonical version) inserts nothing and
# returns no row: no IntegrityError, so no savepoint is needed around it.
_INSERT_SQL = (
    f"INSERT INTO package_versions ({', '.join(_INSERT_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _INSERT_COLUMNS)}) "
    "ON CONFLICT DO NOTHING RETURNING id"
)


def submit(
    conn: Connection, sub: Submission, *, submitted_by: str, license_expression: str | None
) -> StoredVersion:
    """Store a new pending version; return its id and record.

    ``license_expression`` is the already validated, normalised SPDX expression.
    Raises ConflictError when the (ecosystem, normalised name, version) exists.
    """
    for field in ("name", "version", "ecosystem", "license", "description", "justification"):
        _check_text(field, getattr(sub, field))
    check_url("homepage", sub.homepage)
    check_url("repository", sub.repository)
    check_url("resolved", sub.resolved)
    _check_integrity(sub.integrity)
    eco, display, normalized, canonical = identify(sub.ecosystem, sub.name, sub.version)
    version = sub.version.strip()
    siblings = plain_sql(
        conn, _PACKAGE_VERSIONS_SQL, {"ecosystem": eco.name, "normalized_name": normalized}
    )
    # The name is shown as first submitted, whatever spelling later submissions use.
    name = min(siblings, key=lambda s: int(s[0]))[1] if siblings else display
    values: dict[str, Any] = {
        "ecosystem": eco.name,
        "name": name,
        "normalized_name": normalized,
        "version": version,
        "canonical_version": canonical,
        "sort_token": eco.sort_token(version),
        "purl": eco.purl(display, version),
        "status": "pending",
        "license": license_expression,
        "description": sub.description,
        "homepage": sub.homepage,
        "repository": sub.repository,
        "justification": sub.justification,
        "submitted_by": submitted_by,
        "submitted_at": sql_timestamp(conn, utcnow()),
        "flags": "[]",
        "policy_reasons": "[]",
        "resolved": sub.resolved,
        "integrity": sub.integrity,
    }
    inserted = plain_sql(conn, _INSERT_SQL, values)
    if not inserted:
        raise ConflictError(
            f"{eco.name} package {name!r} version {version!r} has already been submitted.",
            code="already_exists",
        )
    version_id = int(inserted[0][0])
    # Highest first, as reads orders them: sort token, then id (this one is the newest).
    versions = [(s[4], int(s[0]), s[2], s[3]) for s in siblings]
    versions.append((values["sort_token"], version_id, version, "pending"))
    versions.sort(reverse=True)
    record = reads.record_from_row(values, [(v, status) for _, _, v, status in versions], [])
    return StoredVersion(version_id, record)


def select_version_id(
    conn: Connection, name: str, *, ecosystem: str | None = None, version: str | None = None
) -> int:
    """Return the id of the selected version: the one asked for, else the highest.

    Raises NotFoundError for an unknown package or version, InvalidInputError
    when the name exists in several ecosystems and none was chosen.
    """
    return reads.select_id(reads.sqlalchemy_reader(conn), name, ecosystem, version)


def version_identity(conn: Connection, version_id: int) -> dict[str, str]:
    """The ``name``, ``version`` and ``ecosystem`` of a stored version, as submitted."""
    row = conn.execute(
        select(pv.c.name, pv.c.version, pv.c.ecosystem).where(pv.c.id == version_id)
    ).one()
    return {"name": row.name, "version": row.version, "ecosystem": row.ecosystem}


def get_record(
    conn: Connection, name: str, *, ecosystem: str | None = None, version: str | None = None
) -> PackageRecord:
    """Return the full record of the selected version of a package."""
    return reads.record(reads.sqlalchemy_reader(conn), name, ecosystem=ecosystem, version=version)


def get_record_by_id(conn: Connection, version_id: int) -> PackageRecord:
    """Return the full record of one version: the seed's fields and the extensions."""
    return reads.record_by_id(reads.sqlalchemy_reader(conn), version_id)


def list_packages(
    conn: Connection,
    *,
    search: str | None = None,
    ecosystem: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> reads.PackageList:
    """List or search package versions; ``total`` counts every match (see ``packages.search``)."""
    keep = None
    if conn.dialect.name == "postgresql":
        database = postgres_word_sets.conninfo(conn.engine.url)
        keep = functools.partial(postgres_word_sets.keep, database)
    return package_search.list_packages(
        reads.sqlalchemy_reader(conn),
        conn.dialect.name,
        search=search,
        ecosystem=ecosystem,
        status=status,
        limit=limit,
        offset=offset,
        keep=keep,
    )


def version_ids_of(conn: Connection, packages: Iterable[tuple[str, str]]) -> list[int]:
    """Ids of the stored versions of the given (ecosystem, normalised name) packages."""
    by_ecosystem: dict[str, list[str]] = {}
    for ecosystem, name in packages:
        by_ecosystem.setdefault(ecosystem, []).append(name)
    ids: list[int] = []
    for ecosystem, names in by_ecosystem.items():
        ordered = sorted(names)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            ids.extend(
                conn.execute(
                    select(pv.c.id).where(
                        pv.c.ecosystem == ecosystem, pv.c.normalized_name.in_(chunk)
                    )
                ).scalars()
            )
    return sorted(ids)
