"""License categories and the obligations that follow from them.

The category of an SPDX id comes from the ScanCode LicenseDB index that
``license-expression`` bundles (SPDX list 3.27), mapped onto the registry's
eight categories. ScanCode has no network-copyleft category and lacks the ids
added in SPDX 3.28/3.29, so ``data/categories.toml`` adds a network-copyleft
list, ScanCode keys for some new ids and a few explicit overrides, each with
its reason. Anything still unmatched is ``unknown``: a reviewer is better than
a guess.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache

import license_expression

from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.licenses import _data


class Category(StrEnum):
    """What kind of obligations a license brings; the unit of the default policy."""

    PERMISSIVE = "permissive"
    PUBLIC_DOMAIN = "public_domain"
    WEAK_COPYLEFT = "weak_copyleft"
    STRONG_COPYLEFT = "strong_copyleft"
    NETWORK_COPYLEFT = "network_copyleft"
    SOURCE_AVAILABLE = "source_available"
    PROPRIETARY = "proprietary"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        """The category as words for sentences (``strong copyleft``)."""
        return self.value.replace("_", " ")


#: ScanCode LicenseDB category -> registry category. ScanCode's "Copyleft" is
#: strong copyleft unless the id is in the network-copyleft list.
SCANCODE_CATEGORY_MAP: dict[str, Category] = {
    "Permissive": Category.PERMISSIVE,
    "Public Domain": Category.PUBLIC_DOMAIN,
    "Copyleft Limited": Category.WEAK_COPYLEFT,
    "Copyleft": Category.STRONG_COPYLEFT,
    "Source-available": Category.SOURCE_AVAILABLE,
    "Free Restricted": Category.SOURCE_AVAILABLE,
    "Proprietary Free": Category.PROPRIETARY,
    "Commercial": Category.PROPRIETARY,
    "CLA": Category.UNKNOWN,
    "Patent License": Category.UNKNOWN,
    "Unstated License": Category.UNKNOWN,
}

#: Categories whose licenses let anyone use the software for any purpose.
_FREE_CATEGORIES = frozenset(
    {
        Category.PERMISSIVE,
        Category.PUBLIC_DOMAIN,
        Category.WEAK_COPYLEFT,
        Category.STRONG_COPYLEFT,
        Category.NETWORK_COPYLEFT,
    }
)

# An "NC" part of an id (CC-BY-NC-4.0, CC-BY-NC-SA-2.0-UK) or "non-commercial"
# in a name is how licenses forbidding commercial use announce themselves.
_NC_ID = re.compile(r"(?:^|-)NC(?:-|$)", re.IGNORECASE)
_NC_NAME = re.compile(r"non[\s-]?commercial", re.IGNORECASE)


@cache
def _scancode_index() -> dict[str, str]:
    """ScanCode category by case-folded SPDX key (main and other keys, LicenseRefs too)."""
    index: dict[str, str] = {}
    for entry in license_expression.get_license_index():
        category = entry.get("category")
        if not category:
            continue
        keys = [entry.get("spdx_license_key"), *(entry.get("other_spdx_license_keys") or [])]
        for key in keys:
            if key:
                index.setdefault(key.casefold(), category)
    return index


@cache
def network_copyleft_ids() -> dict[str, str]:
    """The ids treated as network copyleft, each with the reason, by case-folded id."""
    table: dict[str, str] = _data.load("categories")["network_copyleft"]
    return {key.casefold(): reason for key, reason in table.items()}


@cache
def _overrides() -> dict[str, tuple[Category, str]]:
    table = _data.load("categories")["overrides"]
    return {
        key.casefold(): (Category(value["category"]), value["reason"])
        for key, value in table.items()
    }


@cache
def _scancode_aliases() -> dict[str, str]:
    table: dict[str, str] = _data.load("categories")["scancode_aliases"]
    return {key.casefold(): value for key, value in table.items()}


def _base_id(license_id: str) -> str:
    """The license part of ``X+`` or ``X WITH E``: categories belong to the license."""
    base = license_id.split(" WITH ", 1)[0].strip()
    if base.endswith("+") and base.casefold() not in _scancode_index():
        base = base[:-1]
    return base


def scancode_category(license_id: str) -> str | None:
    """ScanCode's own category for an id (case-insensitive), or None if ScanCode lacks it."""
    key = _base_id(license_id).casefold()
    index = _scancode_index()
    if key in index:
        return index[key]
    alias = _scancode_aliases().get(key)
    return index.get(alias.casefold()) if alias else None


def category_of(license_id: str) -> Category:
    """The registry category of an SPDX id, ``X+`` or ``X WITH E`` (the base license decides).

    An exception only adds permissions to its license, so judging ``X WITH E``
    by ``X`` can be stricter than needed but never laxer; a policy rule for the
    full ``X WITH E`` relaxes it where wanted.
    """
    key = _base_id(license_id).casefold()
    if key in network_copyleft_ids():
        return Category.NETWORK_COPYLEFT
    override = _overrides().get(key)
    if override is not None:
        return override[0]
    scancode = scancode_category(key)
    if scancode is None:
        return Category.UNKNOWN
    return SCANCODE_CATEGORY_MAP.get(scancode, Category.UNKNOWN)


def category_reason(license_id: str) -> str:
    """One sentence saying where the category of an id comes from."""
    base = _base_id(license_id)
    key = base.casefold()
    category = category_of(base)
    if key in network_copyleft_ids():
        return f"{base} is network copyleft: {network_copyleft_ids()[key]}"
    if key in _overrides():
        return f"{base} is {category.label}: {_overrides()[key][1]}"
    scancode = scancode_category(key)
    if scancode is None:
        return f"{base} has no category in the ScanCode LicenseDB, so it is unknown"
    return f"{base} is {category.label} (ScanCode LicenseDB category {scancode!r})"


def parse_category(value: str, *, field: str = "category") -> Category:
    """Return the Category named by ``value`` (case-insensitive) or raise InvalidInputError."""
    try:
        return Category(value.strip().lower())
    except ValueError:
        allowed = ", ".join(c.value for c in Category)
        message = f"unknown category {value!r}; expected one of {allowed}"
        raise InvalidInputError(
            f"Unknown license category {value!r}: use one of {allowed}.",
            code="invalid_category",
            errors=[FieldError(field, message)],
        ) from None


@cache
def _no_attribution_ids() -> frozenset[str]:
    ids: list[str] = _data.load("facts")["attribution"]["not_required"]
    return frozenset(i.casefold() for i in ids)


@cache
def _commercial_facts() -> tuple[frozenset[str], frozenset[str]]:
    table = _data.load("facts")["commercial"]
    forbidden = frozenset(i.casefold() for i in table["forbidden"])
    allowed = frozenset(i.casefold() for i in table["allowed"])
    return forbidden, allowed


def requires_attribution(license_id: str, category: Category) -> bool:
    """Whether copies must carry the author's notice.

    Public-domain dedications and the few notice-free licenses in
    ``data/facts.toml`` (0BSD, MIT-0, ...) need none; everything else does,
    including unknown licenses, where keeping the notice is the safe default.
    """
    if _base_id(license_id).casefold() in _no_attribution_ids():
        return False
    return category is not Category.PUBLIC_DOMAIN


def allows_commercial(
    license_id: str,
    category: Category,
    *,
    name: str = "",
    osi_approved: bool = False,
    fsf_libre: bool = False,
) -> bool:
    """Whether the license lets a company use the software commercially.

    In order: a non-commercial license (an ``NC`` part in the id,
    "non-commercial" in the name, or listed in ``data/facts.toml``) does not;
    an OSI-approved or FSF-libre one does (the Open Source Definition and the
    FSF's freedom 0 forbid restricting fields of use); so does every open
    category, ScanCode's "Free Restricted" licenses (they restrict fields such
    as military use, not commerce) and the listed exceptions (CC-BY-ND);
    source-available, proprietary and unknown licenses do not unless known
    otherwise.
    """
    key = _base_id(license_id)
    forbidden, allowed = _commercial_facts()
    if _NC_ID.search(key) or _NC_NAME.search(name) or key.casefold() in forbidden:
        return False
    if osi_approved or fsf_libre or key.casefold() in allowed:
        return True
    if scancode_category(key) == "Free Restricted":
        return True
    return category in _FREE_CATEGORIES
