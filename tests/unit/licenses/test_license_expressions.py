"""SPDX expressions: strict parsing of submissions, lenient normalisation of declarations."""

from __future__ import annotations

import pytest

from foss_registry.errors import InvalidInputError
from foss_registry.licenses import (
    DeclaredLicense,
    LicenseAnd,
    LicenseOr,
    LicenseTerm,
    find_license,
    license_terms,
    normalize_declared,
    parse_expression,
    parse_submitted,
    parse_term,
)
from foss_registry.licenses._data import load
from foss_registry.licenses.expressions import alias_key, spdx_licensing


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("MIT", "MIT"),
        ("mit", "MIT"),
        ("MIT OR Apache-2.0", "MIT OR Apache-2.0"),
        ("mit or apache-2.0", "MIT OR Apache-2.0"),
        ("(MIT AND BSD-3-Clause)", "MIT AND BSD-3-Clause"),
        ("MIT AND (BSD-3-Clause OR ISC)", "MIT AND (BSD-3-Clause OR ISC)"),
        ("(MIT OR ISC) AND (0BSD OR Zlib)", "(MIT OR ISC) AND (0BSD OR Zlib)"),
        ("MIT OR (ISC OR 0BSD)", "MIT OR ISC OR 0BSD"),
        ("((MIT AND ISC) AND 0BSD)", "MIT AND ISC AND 0BSD"),
        # AND binds tighter than OR, as in the SPDX specification.
        ("MIT OR ISC AND 0BSD", "MIT OR (ISC AND 0BSD)"),
        ("MIT AND ISC OR 0BSD", "(MIT AND ISC) OR 0BSD"),
        (
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
        ),
        (
            "gpl-2.0-or-later with classpath-exception-2.0",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
        ),
        ("Apache-2.0 WITH LLVM-exception", "Apache-2.0 WITH LLVM-exception"),
        ("LicenseRef-foo", "LicenseRef-foo"),
        ("licenseref-Foo.Bar-2", "LicenseRef-Foo.Bar-2"),
        ("MIT AND LicenseRef-my-company", "MIT AND LicenseRef-my-company"),
        ("DocumentRef-spdx-doc:LicenseRef-x", "DocumentRef-spdx-doc:LicenseRef-x"),
        ("Apache-2.0+", "Apache-2.0+"),
        ("  MIT  ", "MIT"),
        # SPDX 3.28/3.29 ids, unknown to the Licensing bundled in license-expression.
        ("OpenMDW-1.0", "OpenMDW-1.0"),
        ("ESA-PL-permissive-2.4 OR MIT", "ESA-PL-permissive-2.4 OR MIT"),
        ("GPL-2.0-only WITH rsync-linking-exception", "GPL-2.0-only WITH rsync-linking-exception"),
    ],
)
def test_valid_expressions_are_normalised(text: str, normalised: str) -> None:
    assert parse_submitted(text) == normalised
    # Normalising is idempotent.
    assert parse_submitted(normalised) == normalised


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("GPL-3.0", "GPL-3.0-only"),
        ("GPL-3.0+", "GPL-3.0-or-later"),
        ("GPL-2.0", "GPL-2.0-only"),
        ("gpl-2.0+", "GPL-2.0-or-later"),
        ("LGPL-2.1", "LGPL-2.1-only"),
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("AGPL-3.0", "AGPL-3.0-only"),
        ("GPL-2.0 WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"),
        ("GPL-2.0-with-classpath-exception", "GPL-2.0-only WITH Classpath-exception-2.0"),
        ("GPL-3.0-with-GCC-exception", "GPL-3.0-only WITH GCC-exception-3.1"),
        ("eCos-2.0", "GPL-2.0-or-later WITH eCos-exception-2.0"),
        ("wxWindows OR MIT", "LGPL-2.0-or-later WITH WxWindows-exception-3.1 OR MIT"),
        ("LGPL-2.1+ WITH Nokia-Qt-exception-1.1", "LGPL-2.1-or-later WITH Qt-LGPL-exception-1.1"),
        ("MIT OR GPL-3.0", "MIT OR GPL-3.0-only"),
        ("StandardML-NJ", "SMLNJ"),
        # The + operator on an -only id means the -or-later license.
        ("GPL-2.0-only+", "GPL-2.0-or-later"),
        ("LGPL-2.1-or-later+", "LGPL-2.1-or-later"),
        # No single replacement: kept as it is.
        ("Net-SNMP", "Net-SNMP"),
        # A deprecated id that already carries an exception cannot take another.
        (
            "GPL-2.0-with-classpath-exception WITH LLVM-exception",
            "GPL-2.0-with-classpath-exception WITH LLVM-exception",
        ),
    ],
)
def test_deprecated_ids_are_replaced(text: str, normalised: str) -> None:
    assert parse_submitted(text) == normalised


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("MIT License", "MIT"),
        ("The MIT License", "MIT"),
        ("mit   license", "MIT"),
        ("Expat", "MIT"),
        ("Apache 2.0", "Apache-2.0"),
        ("Apache License 2.0", "Apache-2.0"),
        ("Apache License, Version 2.0", "Apache-2.0"),
        ("The Apache Software License, Version 2.0", "Apache-2.0"),
        ("Apache Software License", "Apache-2.0"),
        ("GPLv3+", "GPL-3.0-or-later"),
        ("GPLv3", "GPL-3.0-only"),
        ("GPLv2", "GPL-2.0-only"),
        ("GPLv2+", "GPL-2.0-or-later"),
        ("GPLv2 or later", "GPL-2.0-or-later"),
        ("GPL-2.0 or later", "GPL-2.0-or-later"),
        ("LGPLv2.1", "LGPL-2.1-only"),
        ("LGPLv3+", "LGPL-3.0-or-later"),
        ("AGPLv3", "AGPL-3.0-only"),
        ("ISC License", "ISC"),
        ("Zlib License", "Zlib"),
        ("BSD 3-Clause", "BSD-3-Clause"),
        ("New BSD License", "BSD-3-Clause"),
        ("Simplified BSD", "BSD-2-Clause"),
        ("MPL 2.0", "MPL-2.0"),
        ("Eclipse Public License - v 1.0", "EPL-1.0"),
        ("Eclipse Public License - v 2.0", "EPL-2.0"),
        ("CC0", "CC0-1.0"),
        ("Python Software Foundation License", "PSF-2.0"),
        ("License :: OSI Approved :: MIT License", "MIT"),
        ("License :: OSI Approved :: Apache Software License", "Apache-2.0"),
        ("License :: OSI Approved :: GNU General Public License v3 (GPLv3)", "GPL-3.0-only"),
        (
            "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)",
            "LGPL-3.0-or-later",
        ),
        ("License :: OSI Approved :: ISC License (ISCL)", "ISC"),
        ("License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0"),
        ("License :: OSI Approved :: The Unlicense (Unlicense)", "Unlicense"),
        (
            "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication",
            "CC0-1.0",
        ),
        ("License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)", "BSL-1.0"),
        # Common spellings inside an expression.
        ("Apache 2.0 OR MIT", "Apache-2.0 OR MIT"),
        ("MIT License OR Apache License 2.0", "MIT OR Apache-2.0"),
        ("MIT License AND BSD 3-Clause OR ISC License", "(MIT AND BSD-3-Clause) OR ISC"),
    ],
)
def test_common_spellings_are_mapped_first(text: str, normalised: str) -> None:
    assert parse_submitted(text) == normalised
    declared = normalize_declared(text)
    assert declared == DeclaredLicense(expression=normalised, verbatim=text, known=True)


@pytest.mark.parametrize(
    "text",
    [
        "BSD",
        "BSD License",
        "License :: OSI Approved :: BSD License",
        "GPL",
        "GNU General Public License (GPL)",
        "LGPL",
        "LGPLv2",
        "License :: OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)",
        "AGPL License",
        "Public Domain",
        "Artistic License",
    ],
)
def test_family_names_are_never_guessed(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_submitted(text)
    assert caught.value.code == "invalid_license"
    assert "names several licenses" in caught.value.detail
    assert normalize_declared(text) == DeclaredLicense(expression=None, verbatim=text, known=False)


def test_bsd_lists_the_choices() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_submitted("BSD")
    for option in ("BSD-2-Clause", "BSD-3-Clause"):
        assert option in caught.value.detail
        assert option in caught.value.errors[0].message


def test_unknown_id_suggests_the_closest_ids() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_submitted("Apache-2.1 OR MIT", field="license")
    error = caught.value
    assert error.code == "invalid_license"
    assert error.status == 400
    assert "'Apache-2.1'" in error.detail
    assert "Apache-2.0" in error.detail
    assert error.errors[0].field == "license"
    assert "Apache-2.0" in error.errors[0].message


def test_every_unknown_id_is_reported() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_submitted("Foo-1.0 AND MIT AND Bar-2.0")
    assert "'Foo-1.0'" in caught.value.detail and "'Bar-2.0'" in caught.value.detail


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("MIT OR", "not a valid SPDX expression"),
        ("MIT AND", "not a valid SPDX expression"),
        ("(MIT", "not a valid SPDX expression"),
        ("MIT, ISC", "not a valid SPDX expression"),
        ("MIT / Apache-2.0", "not a valid SPDX expression"),
        ("Classpath-exception-2.0", "is a license exception"),
        ("MIT WITH Apache-2.0", "is a license, not an exception"),
        ("MIT WITH Foo-exception", "unknown license exception"),
        ("GPL-2.0-only WITH Classpath-exception-2.0 WITH LLVM-exception", "not a valid"),
        ("LicenseRef-my_license", "not a valid LicenseRef"),
        ("LicenseRef-", "not a valid LicenseRef"),
        ("NOASSERTION", "not a license"),
        ("NONE", "not a license"),
        ("GPL-4.0", "unknown license id"),
        ("MIT License with a twist", "not a valid SPDX expression"),
        ("My Own License", "unknown license id 'My Own License'"),
        ("Permission is hereby granted\nfree of charge", "license text"),
        ("x" * 2000, "license text"),
    ],
)
def test_invalid_expressions_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_submitted(text)
    assert caught.value.code == "invalid_license"
    assert fragment in caught.value.detail
    assert len(caught.value.errors) == 1


def test_tree_shape() -> None:
    expr = parse_expression("MIT OR (Apache-2.0 AND GPL-2.0-or-later WITH Classpath-exception-2.0)")
    assert isinstance(expr, LicenseOr)
    assert expr.terms[0] == LicenseTerm("MIT")
    inner = expr.terms[1]
    assert isinstance(inner, LicenseAnd)
    assert inner.terms[1] == LicenseTerm("GPL-2.0-or-later", "Classpath-exception-2.0")
    assert [str(t) for t in license_terms(expr)] == [
        "MIT",
        "Apache-2.0",
        "GPL-2.0-or-later WITH Classpath-exception-2.0",
    ]
    assert LicenseTerm("Apache-2.0", or_later=True).license_key == "Apache-2.0+"
    assert LicenseTerm("LicenseRef-x").is_license_ref
    assert not LicenseTerm("MIT").is_license_ref


def test_parse_term() -> None:
    assert parse_term("gpl-2.0 with classpath-exception-2.0") == LicenseTerm(
        "GPL-2.0-only", "Classpath-exception-2.0"
    )
    with pytest.raises(InvalidInputError) as caught:
        parse_term("MIT OR ISC", field="outbound")
    assert "single license" in caught.value.detail
    assert caught.value.errors[0].field == "outbound"


@pytest.mark.parametrize(
    "text",
    [
        "UNKNOWN",
        "NOASSERTION",
        "NONE",
        "UNLICENSED",
        "",
        "  ",
        "SEE LICENSE IN LICENSE.txt",
        "Dual License",
        "Proprietary",
        "Copyright (c) 2020 Someone\n\nPermission is hereby granted, free of charge...",
        "GPL-4.0",
    ],
)
def test_declared_licenses_that_cannot_be_mapped_stay_verbatim(text: str) -> None:
    assert normalize_declared(text) == DeclaredLicense(expression=None, verbatim=text, known=False)


def test_declared_none() -> None:
    assert normalize_declared(None) == DeclaredLicense(expression=None, verbatim="", known=False)


def test_declared_valid_expressions_are_normalised() -> None:
    assert normalize_declared("(MIT OR Apache-2.0)") == DeclaredLicense(
        "MIT OR Apache-2.0", "(MIT OR Apache-2.0)", True
    )
    assert normalize_declared("GPL-2.0+").expression == "GPL-2.0-or-later"
    assert normalize_declared("LicenseRef-Proprietary").known


def test_alias_table_is_consistent() -> None:
    """Aliases map to valid expressions, never shadow a real id, never collide with the
    ambiguous table, and are written in their lookup form."""
    data = load("aliases")
    aliases, ambiguous = data["aliases"], data["ambiguous"]
    assert not set(aliases) & set(ambiguous)
    for key, value in aliases.items():
        assert alias_key(key) == key, key
        assert find_license(key) is None, key
        assert parse_submitted(value) == value, (key, value)
    for key, options in ambiguous.items():
        assert alias_key(key) == key, key
        assert len(options) >= 2
        for option in options:
            assert parse_submitted(option) == option


def test_licensing_knows_every_catalog_id() -> None:
    assert len(spdx_licensing().known_symbols) == 826
