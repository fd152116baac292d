"""Categories from the ScanCode LicenseDB index, the network-copyleft list and the facts."""

from __future__ import annotations

import license_expression
import pytest

from foss_registry.errors import InvalidInputError
from foss_registry.licenses import (
    Category,
    all_licenses,
    category_of,
    category_reason,
    get_license,
    parse_category,
    scancode_category,
)
from foss_registry.licenses._data import load
from foss_registry.licenses.categories import SCANCODE_CATEGORY_MAP, network_copyleft_ids


@pytest.fixture(scope="module")
def scancode() -> dict[str, str]:
    table: dict[str, str] = {}
    for entry in license_expression.get_license_index():
        for key in [entry["spdx_license_key"], *(entry.get("other_spdx_license_keys") or [])]:
            if key:
                table.setdefault(key.casefold(), entry["category"])
    return table


def test_every_scancode_category_is_mapped(scancode: dict[str, str]) -> None:
    assert set(scancode.values()) <= set(SCANCODE_CATEGORY_MAP)


def test_every_categorised_spdx_id_maps_as_scancode_says(scancode: dict[str, str]) -> None:
    unknown_on_purpose = {"CLA", "Patent License", "Unstated License"}
    checked = 0
    for lic in all_licenses():
        source = scancode.get(lic.id.casefold())
        if source is None:
            continue
        checked += 1
        assert lic.scancode_category == source
        if source in unknown_on_purpose:
            assert lic.category is Category.UNKNOWN
            continue
        assert lic.category is not Category.UNKNOWN, lic.id
        if lic.id.casefold() in network_copyleft_ids():
            assert lic.category is Category.NETWORK_COPYLEFT
        else:
            assert lic.category is SCANCODE_CATEGORY_MAP[source], lic.id
    assert checked > 770


@pytest.mark.parametrize(
    ("license_id", "category"),
    [
        ("GPL-3.0-only", Category.STRONG_COPYLEFT),
        ("GPL-2.0-or-later", Category.STRONG_COPYLEFT),
        ("GPL-3.0", Category.STRONG_COPYLEFT),
        ("AGPL-3.0-or-later", Category.NETWORK_COPYLEFT),
        ("AGPL-3.0-only", Category.NETWORK_COPYLEFT),
        ("AGPL-3.0", Category.NETWORK_COPYLEFT),
        ("SSPL-1.0", Category.NETWORK_COPYLEFT),
        ("OSL-3.0", Category.NETWORK_COPYLEFT),
        ("EUPL-1.2", Category.NETWORK_COPYLEFT),
        ("RPL-1.5", Category.NETWORK_COPYLEFT),
        ("CPAL-1.0", Category.NETWORK_COPYLEFT),
        ("LGPL-2.1-only", Category.WEAK_COPYLEFT),
        ("LGPL-3.0-or-later", Category.WEAK_COPYLEFT),
        ("MPL-2.0", Category.WEAK_COPYLEFT),
        ("EPL-2.0", Category.WEAK_COPYLEFT),
        ("CC0-1.0", Category.PUBLIC_DOMAIN),
        ("Unlicense", Category.PUBLIC_DOMAIN),
        ("CC-BY-NC-4.0", Category.SOURCE_AVAILABLE),
        ("BUSL-1.1", Category.SOURCE_AVAILABLE),
        ("Elastic-2.0", Category.SOURCE_AVAILABLE),
        ("BSD-3-Clause-No-Nuclear-License", Category.SOURCE_AVAILABLE),
        ("Watcom-1.0", Category.PROPRIETARY),
        ("Apache-2.0", Category.PERMISSIVE),
        ("MIT", Category.PERMISSIVE),
        ("BSD-3-Clause", Category.PERMISSIVE),
        ("0BSD", Category.PERMISSIVE),
        ("any-OSI", Category.UNKNOWN),
    ],
)
def test_category_of_common_licenses(license_id: str, category: Category) -> None:
    assert category_of(license_id) is category
    assert get_license(license_id).category is category


def test_sspl_is_network_copyleft_although_scancode_says_source_available() -> None:
    assert scancode_category("SSPL-1.0") == "Source-available"
    assert category_of("SSPL-1.0") is Category.NETWORK_COPYLEFT
    assert "service" in category_reason("SSPL-1.0")


def test_network_list_names_only_real_spdx_licenses() -> None:
    for key in load("categories")["network_copyleft"]:
        lic = get_license(key)
        assert lic.id == key and not lic.is_exception


def test_overrides_and_scancode_aliases_only_fill_gaps(scancode: dict[str, str]) -> None:
    """Overrides exist for ids ScanCode lacks; they never contradict ScanCode."""
    data = load("categories")
    for key, value in data["overrides"].items():
        assert get_license(key).id == key
        assert key.casefold() not in scancode, key
        assert category_of(key) is Category(value["category"])
    for key, ref in data["scancode_aliases"].items():
        assert get_license(key).id == key
        assert key.casefold() not in scancode
        assert ref.casefold() in scancode
        assert scancode_category(key) == scancode[ref.casefold()]


def test_ids_new_in_spdx_3_28_and_3_29() -> None:
    # Known to ScanCode only under its own key.
    assert category_of("OpenMDW-1.0") is Category.PERMISSIVE
    assert category_of("UnRAR") is Category.SOURCE_AVAILABLE
    # Decided by a listed override.
    assert category_of("ESA-PL-strong-copyleft-2.4") is Category.STRONG_COPYLEFT
    assert category_of("CC-BY-NC-3.0-IGO") is Category.SOURCE_AVAILABLE
    # Not known anywhere: unknown, not guessed.
    assert scancode_category("Buddy") is None
    assert category_of("Buddy") is Category.UNKNOWN
    assert "no category" in category_reason("Buddy")


def test_terms_are_categorised_by_their_license() -> None:
    assert category_of("GPL-2.0-only WITH Classpath-exception-2.0") is Category.STRONG_COPYLEFT
    assert category_of("Apache-2.0+") is Category.PERMISSIVE
    assert category_of("LicenseRef-foo") is Category.UNKNOWN
    assert category_of("LicenseRef-scancode-public-domain") is Category.PUBLIC_DOMAIN


def test_category_reasons_name_the_source() -> None:
    assert category_reason("MIT") == "MIT is permissive (ScanCode LicenseDB category 'Permissive')"
    assert "network" in category_reason("AGPL-3.0-only")


@pytest.mark.parametrize(
    ("license_id", "attribution", "commercial"),
    [
        ("MIT", True, True),
        ("Apache-2.0", True, True),
        ("BSD-3-Clause", True, True),
        ("GPL-3.0-only", True, True),
        ("AGPL-3.0-or-later", True, True),
        ("MPL-2.0", True, True),
        ("CC0-1.0", False, True),
        ("Unlicense", False, True),
        ("0BSD", False, True),
        ("MIT-0", False, True),
        ("WTFPL", False, True),
        ("CC-BY-4.0", True, True),
        ("CC-BY-NC-4.0", True, False),
        ("CC-BY-NC-SA-4.0", True, False),
        ("CC-BY-NC-ND-3.0-IGO", True, False),
        ("CC-BY-NC-3.0-IGO", True, False),
        ("CC-BY-ND-4.0", True, True),
        ("PolyForm-Noncommercial-1.0.0", True, False),
        ("NCGL-UK-2.0", True, False),
        ("BUSL-1.1", True, False),
        ("SSPL-1.0", True, True),
        ("Watcom-1.0", True, True),  # OSI approved: no field-of-use restriction
        ("Unicode-TOU", True, False),  # proprietary and not known otherwise
        ("BSD-3-Clause-No-Military-License", True, True),  # ScanCode "Free Restricted"
        ("Buddy", True, False),  # unknown
    ],
)
def test_attribution_and_commercial_use(
    license_id: str, attribution: bool, commercial: bool
) -> None:
    lic = get_license(license_id)
    assert lic.requires_attribution is attribution
    assert lic.allows_commercial is commercial


def test_no_non_commercial_license_allows_commercial_use() -> None:
    for lic in all_licenses():
        if "-NC-" in lic.id or lic.id.endswith("-NC") or "non commercial" in lic.full_name.lower():
            assert not lic.allows_commercial, lic.id


def test_every_open_source_license_allows_commercial_use() -> None:
    for lic in all_licenses(include_exceptions=False):
        if lic.osi_approved or lic.fsf_libre:
            assert lic.allows_commercial, lic.id


def test_public_domain_needs_no_attribution() -> None:
    public_domain = [lic for lic in all_licenses() if lic.category is Category.PUBLIC_DOMAIN]
    assert len(public_domain) > 20
    assert not any(lic.requires_attribution for lic in public_domain)


def test_parse_category() -> None:
    assert parse_category(" Weak_Copyleft ") is Category.WEAK_COPYLEFT
    with pytest.raises(InvalidInputError) as caught:
        parse_category("copyleft", field="filter")
    assert caught.value.code == "invalid_category"
    assert caught.value.errors[0].field == "filter"
    assert "network_copyleft" in caught.value.detail


def test_category_labels() -> None:
    assert Category.NETWORK_COPYLEFT.label == "network copyleft"
    assert [c.value for c in Category] == [
        "permissive",
        "public_domain",
        "weak_copyleft",
        "strong_copyleft",
        "network_copyleft",
        "source_available",
        "proprietary",
        "unknown",
    ]
