"""The license policy: loading, validation, serialisation and evaluation of expressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from foss_registry.errors import InvalidInputError
from foss_registry.licenses import Category, all_licenses
from foss_registry.policy import (
    NO_LICENSE_REASON,
    LicensePolicy,
    Status,
    default_policy,
    evaluate_license,
    license_status,
    load_policy,
    parse_policy,
)

DEFAULTS = {
    "permissive": "approved",
    "public_domain": "approved",
    "weak_copyleft": "restricted",
    "strong_copyleft": "restricted",
    "network_copyleft": "rejected",
    "source_available": "rejected",
    "proprietary": "rejected",
    "unknown": "rejected",
}


def test_default_policy() -> None:
    policy = default_policy()
    assert policy.to_dict() == {"categories": DEFAULTS, "licenses": {}}
    assert policy.categories[Category.SOURCE_AVAILABLE] is Status.REJECTED
    assert LicensePolicy.from_dict(policy.to_dict()) == policy


def test_policy_is_read_only() -> None:
    policy = default_policy()
    with pytest.raises(TypeError):
        policy.categories[Category.UNKNOWN] = Status.APPROVED  # type: ignore[index]
    with pytest.raises(AttributeError):
        policy.licenses = {}  # type: ignore[misc]


def test_load_toml(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        """
[categories]
weak_copyleft = "approved"

[licenses]
"gpl-2.0 WITH classpath-exception-2.0" = "approved"
"AGPL-3.0" = "restricted"
"LicenseRef-acme" = "approved"
""",
        encoding="utf-8",
    )
    policy = load_policy(path)
    assert policy.categories[Category.WEAK_COPYLEFT] is Status.APPROVED
    # Categories left out keep the default.
    assert policy.categories[Category.STRONG_COPYLEFT] is Status.RESTRICTED
    # License keys are normalised like expressions (deprecated ids replaced).
    assert dict(policy.licenses) == {
        "GPL-2.0-only WITH Classpath-exception-2.0": Status.APPROVED,
        "AGPL-3.0-only": Status.RESTRICTED,
        "LicenseRef-acme": Status.APPROVED,
    }


def test_load_yaml(tmp_path: Path) -> None:
    for suffix in (".yaml", ".YML"):
        path = tmp_path / f"policy{suffix}"
        path.write_text(
            "categories:\n  unknown: restricted\nlicenses:\n  MPL-2.0: approved\n",
            encoding="utf-8",
        )
        policy = load_policy(path)
        assert policy.categories[Category.UNKNOWN] is Status.RESTRICTED
        assert dict(policy.licenses) == {"MPL-2.0": Status.APPROVED}


def test_empty_yaml_is_the_default(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("", encoding="utf-8")
    assert load_policy(path) == default_policy()


def test_round_trip_through_dict() -> None:
    policy = LicensePolicy.from_dict(
        {"categories": {"proprietary": "restricted"}, "licenses": {"mit": "rejected"}}
    )
    data = policy.to_dict()
    assert data["licenses"] == {"MIT": "rejected"}
    assert data["categories"]["proprietary"] == "restricted"
    assert LicensePolicy.from_dict(data) == policy
    assert (
        parse_policy(
            "categories:\n"
            + "".join(f"  {k}: {v}\n" for k, v in data["categories"].items())
            + "licenses:\n  MIT: rejected\n",
            "yaml",
        )
        == policy
    )


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"categories": {"copyleft": "approved"}}, "categories.copyleft", "unknown category"),
        ({"categories": {"permissive": "ok"}}, "categories.permissive", "bad status"),
        ({"categories": {"permissive": True}}, "categories.permissive", "bad status"),
        ({"licenses": {"GPL-4.0": "approved"}}, "licenses.GPL-4.0", "unknown license id"),
        ({"licenses": {"BSD": "approved"}}, "licenses.BSD", "names several licenses"),
        ({"licenses": {"MIT OR ISC": "approved"}}, "licenses.MIT OR ISC", "single license"),
        (
            {"licenses": {"Classpath-exception-2.0": "approved"}},
            "licenses.Classpath-exception-2.0",
            "license exception",
        ),
        ({"licenses": {"MIT": "maybe"}}, "licenses.MIT", "bad status"),
        ({"licenses": {"GPL-3.0": "approved", "GPL-3.0-only": "rejected"}}, "licenses.", "same"),
        ({"rules": {}}, "rules", "unknown key"),
        ({"categories": ["permissive"]}, "categories", "table/mapping"),
        (["permissive"], "policy", "table/mapping"),
    ],
)
def test_bad_policies_are_clear_errors(data: object, field: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        LicensePolicy.from_dict(data, source="test.toml")
    error = caught.value
    assert error.code == "invalid_policy"
    assert error.status == 400
    assert "test.toml" in error.detail
    assert any(e.field.startswith(field) and fragment in e.message for e in error.errors), (
        error.errors
    )
    assert fragment in error.detail


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInputError) as caught:
        LicensePolicy.from_dict(
            {"categories": {"copyleft": "approved", "unknown": "nope"}, "licenses": {"X-1": "ok"}}
        )
    assert len(caught.value.errors) == 4


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("p.toml", "[categories\npermissive = 1", "not valid TOML"),
        ("p.yaml", "categories: [unclosed", "not valid YAML"),
        ("p.json", "{}", "must end in .toml, .yaml or .yml"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_policy(path)
    assert caught.value.code == "invalid_policy"
    assert fragment in caught.value.detail
    assert str(path) in caught.value.detail


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_policy(tmp_path / "absent.toml")
    assert "cannot be read" in caught.value.detail


@pytest.mark.parametrize(
    ("expression", "status"),
    [
        ("MIT", Status.APPROVED),
        ("Apache-2.0", Status.APPROVED),
        ("CC0-1.0", Status.APPROVED),
        ("LGPL-2.1-only", Status.RESTRICTED),
        ("MPL-2.0", Status.RESTRICTED),
        ("GPL-3.0-only", Status.RESTRICTED),
        ("AGPL-3.0-or-later", Status.REJECTED),
        ("SSPL-1.0", Status.REJECTED),
        ("CC-BY-NC-4.0", Status.REJECTED),
        ("Elastic-2.0", Status.REJECTED),
        ("LicenseRef-acme", Status.REJECTED),
        ("MIT OR GPL-3.0-only", Status.APPROVED),
        ("GPL-3.0-only OR AGPL-3.0-only", Status.RESTRICTED),
        ("MIT AND GPL-3.0-only", Status.RESTRICTED),
        ("MIT AND AGPL-3.0-only", Status.REJECTED),
        ("(MIT OR AGPL-3.0-only) AND (LGPL-2.1-only OR SSPL-1.0)", Status.RESTRICTED),
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", Status.RESTRICTED),
        ("MIT License", Status.APPROVED),
        ("GPL-3.0", Status.RESTRICTED),
    ],
)
def test_default_evaluation(expression: str, status: Status) -> None:
    evaluation = evaluate_license(default_policy(), expression)
    assert evaluation.status is status
    assert evaluation.declared
    assert evaluation.reasons


def test_no_license_stays_for_a_person() -> None:
    for value in (None, "", "  "):
        evaluation = evaluate_license(default_policy(), value)
        assert evaluation.status is Status.RESTRICTED
        assert not evaluation.declared
        assert evaluation.reasons == (NO_LICENSE_REASON,)
        assert evaluation.expression is None
        assert evaluation.to_dict()["declared"] is False


def test_invalid_declarations_count_as_unknown() -> None:
    evaluation = evaluate_license(default_policy(), "BSD License")
    assert evaluation.status is Status.REJECTED
    assert evaluation.expression is None
    assert "not a valid SPDX license expression" in evaluation.reasons[0]
    assert "unknown" in evaluation.reasons[0]
    lenient = LicensePolicy.from_dict({"categories": {"unknown": "restricted"}})
    assert evaluate_license(lenient, "Custom thing").status is Status.RESTRICTED


def test_reasons_name_license_category_and_status() -> None:
    evaluation = evaluate_license(default_policy(), "MIT OR GPL-3.0-only")
    assert evaluation.expression == "MIT OR GPL-3.0-only"
    assert evaluation.reasons == (
        "MIT is permissive (ScanCode LicenseDB category 'Permissive'); "
        "the policy approves permissive licenses",
        "GPL-3.0-only is strong copyleft (ScanCode LicenseDB category 'Copyleft'); "
        "the policy restricts (a reviewer decides) strong copyleft licenses",
        "MIT OR GPL-3.0-only lets the user choose; the most permissive option MIT is approved",
    )
    assert [t.term for t in evaluation.terms] == ["MIT", "GPL-3.0-only"]
    assert [t.term for t in evaluation.decisive_terms] == ["MIT"]


def test_and_names_the_strictest_terms() -> None:
    evaluation = evaluate_license(default_policy(), "MIT AND AGPL-3.0-only AND SSPL-1.0")
    assert [t.term for t in evaluation.decisive_terms] == ["AGPL-3.0-only", "SSPL-1.0"]
    assert evaluation.reasons[-1] == (
        "MIT AND AGPL-3.0-only AND SSPL-1.0 needs every term; the strictest, "
        "AGPL-3.0-only, SSPL-1.0, is rejected"
    )


def test_rejected_or_names_every_option() -> None:
    evaluation = evaluate_license(default_policy(), "AGPL-3.0-only OR SSPL-1.0")
    assert evaluation.status is Status.REJECTED
    assert [t.term for t in evaluation.decisive_terms] == ["AGPL-3.0-only", "SSPL-1.0"]


def test_id_rules_override_category_rules() -> None:
    policy = LicensePolicy.from_dict(
        {
            "licenses": {
                "MIT": "rejected",
                "AGPL-3.0-only": "approved",
                "GPL-2.0-only WITH Classpath-exception-2.0": "approved",
                "LGPL-2.1-or-later": "approved",
                "LicenseRef-acme": "approved",
            }
        }
    )
    assert evaluate_license(policy, "MIT").status is Status.REJECTED
    assert evaluate_license(policy, "AGPL-3.0").status is Status.APPROVED
    assert evaluate_license(policy, "Apache-2.0").status is Status.APPROVED
    with_exception = evaluate_license(policy, "GPL-2.0 WITH Classpath-exception-2.0")
    assert with_exception.status is Status.APPROVED
    assert "rule for GPL-2.0-only WITH Classpath-exception-2.0" in with_exception.reasons[0]
    # Without the exception the category decides.
    assert evaluate_license(policy, "GPL-2.0-only").status is Status.RESTRICTED
    # A rule for the license also covers it with an exception it has no rule for.
    assert (
        evaluate_license(policy, "LGPL-2.1-or-later WITH OCaml-LGPL-linking-exception").status
        is Status.APPROVED
    )
    assert evaluate_license(policy, "licenseref-ACME").status is Status.APPROVED


def test_license_status_for_the_catalog() -> None:
    policy = default_policy()
    assert license_status(policy, "MIT") is Status.APPROVED
    assert license_status(policy, "gpl-3.0") is Status.RESTRICTED
    assert license_status(policy, "AGPL-3.0") is Status.REJECTED
    assert license_status(policy, "Classpath-exception-2.0") is Status.RESTRICTED
    assert license_status(policy, "Buddy") is Status.REJECTED
    custom = LicensePolicy.from_dict({"licenses": {"GPL-3.0-only": "approved"}})
    assert license_status(custom, "GPL-3.0") is Status.APPROVED
    statuses = {license_status(policy, lic.id) for lic in all_licenses()}
    assert statuses == set(Status)


def test_category_filter_and_status_agree_with_the_default() -> None:
    policy = default_policy()
    for lic in all_licenses(include_exceptions=False):
        if not lic.deprecated:
            assert license_status(policy, lic.id) is policy.categories[lic.category], lic.id
