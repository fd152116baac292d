"""What the index may serve: a version's status decides, in enforce or audit mode.

Versions approved by any means count (a reviewer, the policy, a standing rule):
the index reads only ``package_versions.status``. Every request enforce mode
refuses, or in audit mode would refuse, is recorded in ``index_blocked`` and
counted; with ``FOSS_INDEX_REQUEST_ON_BLOCK`` a refused version that was never
submitted is submitted for review, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, func, select

from foss_registry.db import utcnow
from foss_registry.errors import ConflictError
from foss_registry.index.models import index_blocked
from foss_registry.index.records import BlockedList, BlockedRequest
from foss_registry.intake import service as intake
from foss_registry.packages.records import Reader, iso

Mode = Literal["enforce", "audit"]
NOT_SUBMITTED = "not submitted"
#: The justification of a version submitted because an install asked for it.
REQUESTED_BY_INSTALL = "requested by an install"

_STATUSES_SQL = (
    "SELECT canonical_version, status FROM package_versions "
    "WHERE ecosystem = :ecosystem AND normalized_name = :name"
)
_APPROVED_NAMES_SQL = (
    "SELECT DISTINCT normalized_name FROM package_versions "
    "WHERE ecosystem = :ecosystem AND status = 'approved'"
)


def project_statuses(read: Reader, ecosystem: str, name: str) -> dict[str, str]:
    """Every known version of a package: canonical version → status."""
    rows = read(_STATUSES_SQL, {"ecosystem": ecosystem, "name": name})
    return {str(version): str(status) for version, status in rows}


def approved(statuses: dict[str, str]) -> frozenset[str]:
    """The canonical versions that are approved."""
    return frozenset(v for v, s in statuses.items() if s == "approved")


def approved_projects(read: Reader, ecosystem: str) -> list[str]:
    """Normalised names with at least one approved version in the ecosystem."""
    return [str(row[0]) for row in read(_APPROVED_NAMES_SQL, {"ecosystem": ecosystem})]


@dataclass(frozen=True)
class Verdict:
    """Whether a file may be served, and whether the request is recorded as blocked."""

    serve: bool
    record: bool
    #: The version's status: approved, pending, rejected or ``not submitted``.
    status: str


def judge(mode: Mode, status: str | None) -> Verdict:
    """Decide on a file of a version with this status (None: never submitted)."""
    status = status or NOT_SUBMITTED
    if status == "approved":
        return Verdict(serve=True, record=False, status=status)
    return Verdict(serve=mode == "audit", record=True, status=status)


def refusal(name: str, version: str, status: str, review_url: str) -> str:
    """The sentence a refused install shows: the version, its status, where to ask."""
    state = {
        "pending": "is pending review",
        "rejected": "was rejected",
        NOT_SUBMITTED: "has not been submitted for review",
    }.get(status, f"is {status}")
    return (
        f"{name} {version} is not approved for installation: it {state} "
        f"(status: {status}). Request a review at {review_url}"
    )


def record_blocked(
    conn: Connection,
    *,
    ecosystem: str,
    name: str,
    version: str,
    file: str,
    status: str,
    mode: Mode,
    client: str,
) -> None:
    """Keep one refused (or, in audit mode, would-be refused) request."""
    conn.execute(
        index_blocked.insert().values(
            ecosystem=ecosystem,
            name=name,
            version=version[:128],
            file=file[:512],
            status=status,
            mode=mode,
            at=utcnow(),
            client=client[:64],
        )
    )


def list_blocked(conn: Connection, *, limit: int, offset: int) -> BlockedList:
    """The recorded requests, newest first, paged like the other lists."""
    t = index_blocked
    total = conn.execute(select(func.count()).select_from(t)).scalar_one()
    rows = conn.execute(
        select(t).order_by(t.c.at.desc(), t.c.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return BlockedList(
        blocked=[
            BlockedRequest(
                ecosystem=row["ecosystem"],
                name=row["name"],
                version=row["version"],
                file=row["file"],
                status=row["status"],
                mode=row["mode"],
                at=iso(row["at"]) or "",  # a column that is never null
                client=row["client"],
            )
            for row in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


@dataclass
class _Request:
    name: str
    version: str
    ecosystem: str
    license: str | None = None
    description: str | None = None
    homepage: str | None = None
    repository: str | None = None
    justification: str | None = REQUESTED_BY_INSTALL


def request_review(
    conn: Connection, *, ecosystem: str, name: str, version: str, submitted_by: str
) -> bool:
    """Submit a refused version for review unless it is known; True when submitted now."""
    try:
        intake.submit_package(conn, _Request(name, version, ecosystem), submitted_by)
    except ConflictError:
        return False
    return True
