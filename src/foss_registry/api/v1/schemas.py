"""Request bodies and the error shape of API v1 (msgspec Structs, also the OpenAPI schema).

Answers are not declared here: each is the typed record its service returns,
defined once in its domain's ``records.py``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta, Struct

Name = Annotated[str, Meta(min_length=1, max_length=255)]
Version = Annotated[str, Meta(min_length=1, max_length=128)]
EcosystemName = Annotated[str, Meta(min_length=1, max_length=32)]
Url = Annotated[str, Meta(max_length=2048)]
LongText = Annotated[str, Meta(max_length=10_000)]
LicenseText = Annotated[str, Meta(max_length=1024)]


class PackageSubmission(Struct, forbid_unknown_fields=True):
    """Body of ``POST /packages``: a package version submitted for review."""

    multiline_fields: ClassVar[frozenset[str]] = frozenset({"description", "justification"})

    name: Name
    version: Version
    ecosystem: EcosystemName
    license: LicenseText | None = None
    description: LongText | None = None
    homepage: Url | None = None
    repository: Url | None = None
    justification: LongText | None = None
    submitted_by: Annotated[str, Meta(max_length=255)] | None = None
    #: The URL a lockfile resolved the version from.
    resolved: Url | None = None
    #: Its integrity digest as lockfiles write it (``sha512-<base64>``).
    integrity: Annotated[str, Meta(max_length=256)] | None = None


class ReviewDecision(Struct, forbid_unknown_fields=True):
    """Body of ``POST /reviews``: approve or reject one version."""

    multiline_fields: ClassVar[frozenset[str]] = frozenset({"comment"})

    ecosystem: EcosystemName
    name: Name
    version: Version
    decision: Literal["approve", "reject"]
    comment: LongText | None = None
    #: Approve past open findings (high or above) or an errored scan, knowingly.
    acknowledge_findings: bool = False


class FieldProblem(Struct):
    """One invalid input field."""

    field: str
    message: str


class Problem(Struct, omit_defaults=True):
    """RFC 9457 problem details: the one shape of every error response."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] = msgspec.field(default_factory=list)


class TokenCreate(Struct, forbid_unknown_fields=True):
    """Body of ``POST /tokens`` (admin)."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    role: Literal["submitter", "reviewer", "admin"]
    expires_in_days: Annotated[int, Meta(ge=1, le=3650)] | None = None


class PolicyDocument(Struct, forbid_unknown_fields=True):
    """Body of ``PUT /policy``: statuses per category and per license id."""

    auto_approve: bool = False
    categories: dict[str, str] = msgspec.field(default_factory=dict)
    licenses: dict[str, str] = msgspec.field(default_factory=dict)
    #: The flat ``[signals]`` table: ``min_release_age_days`` and a level per signal code.
    signals: dict[str, str | float] = msgspec.field(default_factory=dict)


class EnrichRequest(Struct, forbid_unknown_fields=True):
    """Body of ``POST /enrich``: one version, or every version of the name without ``version``."""

    ecosystem: str
    name: str
    version: str | None = None
