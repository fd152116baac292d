"""The license records the API serves: catalog facts, compatibility and a policy status.

One definition each (frozen msgspec Structs): built here from the catalog and
the OSADL matrix, returned by ``policy.service`` (which knows each license's
status under the policy in force) and answered by ``/licenses``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from msgspec import Struct

from foss_registry.licenses.catalog import License
from foss_registry.licenses.compatibility import Answer, check_compatibility, compatibility_of

_ANSWERS: dict[Answer, Literal["yes", "no", "unknown"]] = {
    Answer.YES: "yes",
    Answer.NO: "no",
    Answer.UNKNOWN: "unknown",
}


class LicenseInfo(Struct, frozen=True):
    """``GET /licenses/{id}``: the seed's fields plus catalog and compatibility facts.

    ``compatible_with`` lists the licenses a combined work may carry when it
    includes code under this license (OSADL matrix: outbound rows whose cell
    for this inbound license is "Yes"); ``incompatible_with`` those it may not;
    ``compatibility_unknown`` the rows that say "Unknown" or "Check dependency".
    ``compatibility_known`` is false when the matrix does not cover the license.
    """

    name: str
    status: str
    category: str
    compatible_with: list[str]
    incompatible_with: list[str]
    requires_attribution: bool
    allows_commercial: bool
    url: str
    full_name: str
    kind: str
    osi_approved: bool
    fsf_libre: bool | None
    deprecated: bool
    replaced_by: str | None
    compatibility_unknown: list[str]
    compatibility_known: bool


class LicenseSummary(Struct, frozen=True):
    """One license in ``GET /licenses``."""

    name: str
    full_name: str
    category: str
    status: str
    osi_approved: bool
    deprecated: bool
    kind: str
    url: str


class LicenseList(Struct, frozen=True):
    """A page of licenses."""

    licenses: list[LicenseSummary]
    total: int
    limit: int
    offset: int


class CompatibilityAnswer(Struct, frozen=True):
    """``GET /licenses/compatibility``: may a work under ``outbound`` use ``expression``?"""

    answer: Literal["yes", "no", "unknown"]
    outbound: str
    expression: str
    reasons: list[str]


def license_record(lic: License, status: str) -> LicenseInfo:
    """The record of ``GET /licenses/{id}``.

    The seed's fields (``name`` is the SPDX id, ``status`` the organisation
    policy's status for it, passed in by the caller) plus the catalog facts and
    the full compatibility picture. Compatibility lists are keyed by the id's
    current replacement for deprecated ids.
    """
    compat = compatibility_of(lic.id)
    return LicenseInfo(
        name=lic.id,
        status=str(status),
        category=lic.category.value,
        compatible_with=list(compat.compatible_with),
        incompatible_with=list(compat.incompatible_with),
        requires_attribution=lic.requires_attribution,
        allows_commercial=lic.allows_commercial,
        url=lic.url,
        full_name=lic.full_name,
        kind=lic.kind,
        osi_approved=lic.osi_approved,
        fsf_libre=lic.fsf_libre,
        deprecated=lic.deprecated,
        replaced_by=lic.replaced_by,
        compatibility_unknown=list(compat.compatibility_unknown),
        compatibility_known=compat.compatibility_known,
    )


def license_list(
    entries: Iterable[License],
    status_of: Callable[[str], str],
    *,
    status: str | None = None,
    limit: int,
    offset: int,
) -> LicenseList:
    """A page of ``entries``, each with its status (``status_of(id)``); only ``status`` if given."""
    items = []
    for lic in entries:
        lic_status = str(status_of(lic.id))
        if status is not None and lic_status != status:
            continue
        items.append(
            LicenseSummary(
                name=lic.id,
                full_name=lic.full_name,
                category=lic.category.value,
                status=lic_status,
                osi_approved=lic.osi_approved,
                deprecated=lic.deprecated,
                kind=lic.kind,
                url=lic.url,
            )
        )
    return LicenseList(
        licenses=items[offset : offset + limit], total=len(items), limit=limit, offset=offset
    )


def compatibility_answer(outbound: str, expression: str) -> CompatibilityAnswer:
    """The record of ``GET /licenses/compatibility`` (see ``check_compatibility``)."""
    result = check_compatibility(outbound, expression)
    return CompatibilityAnswer(
        answer=_ANSWERS[result.answer],
        outbound=result.outbound,
        expression=result.expression,
        reasons=list(result.reasons),
    )
