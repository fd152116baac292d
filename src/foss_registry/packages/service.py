"""Submit, look up, list and search package versions.

Services take a connection inside the caller's transaction and never commit;
they raise domain errors (``foss_registry.errors``) for the edge to translate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, and_, case, func, literal, literal_column, or_, select, text
from sqlalchemy.exc import IntegrityError

from foss_registry import ecosystems
from foss_registry.db import inserted_id, utcnow
from foss_registry.ecosystems import Ecosystem
from foss_registry.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from foss_registry.packages.models import STATUSES, package_versions
from foss_registry.reviews.models import reviews

pv = package_versions


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


def iso(value: datetime | None) -> str | None:
    """Format a timestamp the way the API shows it: ISO 8601 in UTC with ``Z``."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_text(field: str, value: str | None) -> None:
    if value is not None and ("\x00" in value):
        raise InvalidInputError(
            f"The field {field!r} contains a null byte; remove it and send the request again.",
            code="invalid_input",
            errors=[FieldError(field, "must not contain null bytes")],
        )


def _check_url(field: str, value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise InvalidInputError(
            f"The field {field!r} must be an http:// or https:// URL, got {value[:100]!r}.",
            code="invalid_url",
            errors=[FieldError(field, "must be an http(s) URL")],
        )


def validate_status(status: str | None) -> str | None:
    """Return a status filter value, or raise InvalidInputError for an unknown one."""
    if status is None:
        return None
    value = status.strip().lower()
    if value not in STATUSES:
        raise InvalidInputError(
            f"Unknown status {status!r}; use one of: {', '.join(STATUSES)}.",
            code="invalid_status",
            errors=[FieldError("status", f"must be one of {', '.join(STATUSES)}")],
        )
    return value


def _field_error(exc: InvalidInputError, field: str) -> InvalidInputError:
    if not exc.errors:
        exc.errors = [FieldError(field, exc.detail)]
    return exc


def identify(ecosystem: str, name: str, version: str) -> tuple[Ecosystem, str, str, str]:
    """Validate an (ecosystem, name, version) triple.

    Returns the ecosystem, the display name, the normalised name and the
    canonical version; raises InvalidInputError naming the bad field.
    """
    try:
        eco = ecosystems.get(ecosystem)
    except InvalidInputError as exc:
        raise _field_error(exc, "ecosystem") from None
    try:
        display = eco.validate_name(name)
        normalized = eco.normalize_name(name)
    except InvalidInputError as exc:
        raise _field_error(exc, "name") from None
    try:
        canonical = eco.canonical_version(version)
    except InvalidInputError as exc:
        raise _field_error(exc, "version") from None
    return eco, display, normalized, canonical


def submit(
    conn: Connection, sub: Submission, *, submitted_by: str, license_expression: str | None
) -> int:
    """Store a new pending version and return its id.

    ``license_expression`` is the already validated, normalised SPDX expression.
    Raises ConflictError when the (ecosystem, normalised name, version) exists.
    """
    for field in ("name", "version", "ecosystem", "description", "justification"):
        _check_text(field, getattr(sub, field))
    _check_url("homepage", sub.homepage)
    _check_url("repository", sub.repository)
    eco, display, normalized, canonical = identify(sub.ecosystem, sub.name, sub.version)
    version = sub.version.strip()
    # The name is shown as first submitted, whatever spelling later submissions use.
    existing_name = conn.execute(
        select(pv.c.name)
        .where(pv.c.ecosystem == eco.name, pv.c.normalized_name == normalized)
        .order_by(pv.c.id)
        .limit(1)
    ).scalar()
    values: dict[str, Any] = {
        "ecosystem": eco.name,
        "name": existing_name or display,
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
        "submitted_at": utcnow(),
        "flags": [],
    }
    try:
        with conn.begin_nested():
            version_id = inserted_id(conn.execute(pv.insert().values(**values)))
    except IntegrityError as exc:
        raise ConflictError(
            f"{eco.name} package {existing_name or display!r} version {version!r} "
            "has already been submitted.",
            code="already_exists",
        ) from exc
    return int(version_id)


def _locate(conn: Connection, name: str, ecosystem: str | None) -> tuple[Ecosystem, str]:
    """Find which ecosystem holds a package name; 404 if none, 400 if several."""
    if ecosystem is not None:
        try:
            candidates = [ecosystems.get(ecosystem)]
        except InvalidInputError as exc:
            raise _field_error(exc, "ecosystem") from None
    else:
        candidates = [ecosystems.get(n) for n in ecosystems.NAMES]
    forms: dict[str, str] = {}
    for eco in candidates:
        try:
            forms[eco.name] = eco.normalize_name(name)
        except InvalidInputError:
            if ecosystem is not None:
                raise
    if not forms:
        raise NotFoundError(
            f"No package named {name!r} is in the registry.", code="package_not_found"
        )
    found = (
        conn.execute(
            select(pv.c.ecosystem)
            .where(
                or_(
                    *(
                        and_(pv.c.ecosystem == e, pv.c.normalized_name == n)
                        for e, n in forms.items()
                    )
                )
            )
            .distinct()
        )
        .scalars()
        .all()
    )
    if not found:
        where = f" in {ecosystem}" if ecosystem else ""
        raise NotFoundError(
            f"No package named {name!r} is in the registry{where}.", code="package_not_found"
        )
    if len(found) > 1:
        listed = ", ".join(sorted(found))
        raise InvalidInputError(
            f"The name {name!r} exists in several ecosystems ({listed}); "
            "add ?ecosystem= to choose one.",
            code="ambiguous_package",
            errors=[FieldError("ecosystem", f"one of {listed}")],
        )
    eco = ecosystems.get(found[0])
    return eco, forms[eco.name]


def select_version_id(
    conn: Connection, name: str, *, ecosystem: str | None = None, version: str | None = None
) -> int:
    """Return the id of the selected version: the one asked for, else the highest."""
    eco, normalized = _locate(conn, name, ecosystem)
    query = select(pv.c.id).where(pv.c.ecosystem == eco.name, pv.c.normalized_name == normalized)
    if version is not None:
        try:
            canonical = eco.canonical_version(version)
        except InvalidInputError as exc:
            raise _field_error(exc, "version") from None
        version_id = conn.execute(query.where(pv.c.canonical_version == canonical)).scalar()
        if version_id is None:
            raise NotFoundError(
                f"{eco.name} package {name!r} has no version {version!r} in the registry.",
                code="version_not_found",
            )
        return int(version_id)
    # Highest by the ecosystem's ordering; unordered Docker tags by submission time.
    return int(
        conn.execute(query.order_by(pv.c.sort_token.desc(), pv.c.id.desc()).limit(1)).scalar_one()
    )


def get_record(
    conn: Connection, name: str, *, ecosystem: str | None = None, version: str | None = None
) -> dict[str, Any]:
    """Return the full record of the selected version of a package."""
    return get_record_by_id(
        conn, select_version_id(conn, name, ecosystem=ecosystem, version=version)
    )


_SUMMARY_COLUMNS = (pv.c.name, pv.c.version, pv.c.ecosystem, pv.c.status, pv.c.license)


def get_record_by_id(conn: Connection, version_id: int) -> dict[str, Any]:
    """Return the full record of one version: the seed's fields and the extensions."""
    row = conn.execute(select(pv).where(pv.c.id == version_id)).mappings().one()
    versions = conn.execute(
        select(pv.c.version, pv.c.status)
        .where(pv.c.ecosystem == row["ecosystem"], pv.c.normalized_name == row["normalized_name"])
        .order_by(pv.c.sort_token.desc(), pv.c.id.desc())
    ).all()
    history = conn.execute(
        select(reviews.c.decision, reviews.c.by, reviews.c.at, reviews.c.comment, reviews.c.reasons)
        .where(reviews.c.version_id == version_id)
        .order_by(reviews.c.id)
    ).all()
    return {
        "name": row["name"],
        "version": row["version"],
        "ecosystem": row["ecosystem"],
        "status": row["status"],
        "license": row["license"],
        "description": row["description"],
        "homepage": row["homepage"],
        "repository": row["repository"],
        "submitted_by": row["submitted_by"],
        "submitted_at": iso(row["submitted_at"]),
        "approved_by": row["approved_by"],
        "approved_at": iso(row["approved_at"]),
        "rejected_by": row["rejected_by"],
        "rejected_at": iso(row["rejected_at"]),
        "rejection_reason": row["rejection_reason"],
        "justification": row["justification"],
        "purl": row["purl"],
        "flags": list(row["flags"] or []),
        "policy_reasons": list(row["policy_reasons"] or []),
        "versions": [{"version": v.version, "status": v.status} for v in versions],
        "reviews": [
            {
                "decision": r.decision,
                "by": r.by,
                "at": iso(r.at),
                "comment": r.comment,
                "reasons": list(r.reasons or []),
            }
            for r in history
        ],
    }


def _summary(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "version": row.version,
        "ecosystem": row.ecosystem,
        "status": row.status,
        "license": row.license,
    }


def list_packages(
    conn: Connection,
    *,
    search: str | None = None,
    ecosystem: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """List or search package versions; ``total`` counts every match.

    Search matches the normalised name (substring) and the description; exact
    name matches come first, then name prefixes, then the rest.
    """
    filters = []
    if ecosystem is not None:
        try:
            filters.append(pv.c.ecosystem == ecosystems.get(ecosystem).name)
        except InvalidInputError as exc:
            raise _field_error(exc, "ecosystem") from None
    status = validate_status(status)
    if status is not None:
        filters.append(pv.c.status == status)
    term = (search or "").strip().lower()
    if "\x00" in term:
        raise InvalidInputError("The search term contains a null byte.", code="invalid_input")
    order: list[Any] = []
    if term:
        prefix_end = term + "\uffff"
        exact = pv.c.normalized_name == term
        prefix = and_(pv.c.normalized_name >= term, pv.c.normalized_name < prefix_end)
        if len(term) < 3:
            # Trigram indexes need three characters: short terms match names only.
            filters.append(prefix)
        elif conn.dialect.name == "sqlite":
            phrase = '"' + term.replace('"', '""') + '"'
            filters.append(
                pv.c.id.in_(
                    select(literal_column("rowid"))
                    .select_from(text("package_search"))
                    .where(text("package_search MATCH :fts").bindparams(fts=phrase))
                )
            )
        else:
            pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            filters.append(
                or_(
                    pv.c.normalized_name.like(pattern, escape="\\"),
                    func.lower(pv.c.description).like(pattern, escape="\\"),
                )
            )
        order.append(case((exact, 0), (prefix, 1), else_=2))
    order += [pv.c.normalized_name, pv.c.ecosystem, pv.c.sort_token.desc(), pv.c.id.desc()]
    where = and_(literal(True), *filters)
    total = conn.execute(select(func.count()).select_from(pv).where(where)).scalar_one()
    rows = conn.execute(
        select(*_SUMMARY_COLUMNS).where(where).order_by(*order).limit(limit).offset(offset)
    ).all()
    return {
        "packages": [_summary(r) for r in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }
