"""Typosquatting checks against the shipped popular names and an approved catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from foss_registry.signals.popular import ECOSYSTEMS, LIMIT, parse, popular_names
from foss_registry.signals.typosquat import (
    TyposquatIndex,
    fold_separators,
    one_edit,
    skeleton,
    swapped_pair,
)


@pytest.fixture(scope="module")
def pypi() -> TyposquatIndex:
    return TyposquatIndex("pypi").add(popular_names("pypi"), "popular")


@pytest.fixture(scope="module")
def npm() -> TyposquatIndex:
    return TyposquatIndex("npm").add(popular_names("npm"), "popular")


@pytest.mark.parametrize(
    ("name", "target", "how"),
    [
        ("reqeusts", "requests", "swapped_pair"),
        ("requets", "requests", "one_edit"),
        ("requestss", "requests", "one_edit"),
        ("requezts", "requests", "one_edit"),
        ("pythondateutil", "python-dateutil", "separator"),
        ("python.date.util", "python-dateutil", "separator"),
        ("djang0", "django", "confusable"),
        ("r\u0435quests", "requests", "confusable"),  # Cyrillic ie
        ("r\u0435qu\u0435sts", "requests", "confusable"),  # two Cyrillic ie: two edits away
        ("\uff4e\uff55mpy", "numpy", "confusable"),  # fullwidth n and u
        ("n\u0443mpy", "numpy", "one_edit"),  # Cyrillic u looks like y, not u: still one edit
    ],
)
def test_pypi_typosquats(pypi: TyposquatIndex, name: str, target: str, how: str) -> None:
    match = pypi.check(name)
    assert match is not None, name
    assert (match.name, match.how, match.source) == (target, how, "popular")
    assert repr(name) in match.message(name) and repr(target) in match.message(name)


@pytest.mark.parametrize(
    ("name", "target", "how"),
    [
        ("lodahs", "lodash", "swapped_pair"),
        ("expres", "express", "one_edit"),
        ("@types/nodee", "@types/node", "one_edit"),
        ("types-node", "@types/node", "separator"),
        ("typesnode", "@types/node", "separator"),
        ("@babel/c0re", "@babel/core", "confusable"),
    ],
)
def test_npm_typosquats_and_scopes(npm: TyposquatIndex, name: str, target: str, how: str) -> None:
    match = npm.check(name)
    assert match is not None, name
    assert (match.name, match.how) == (target, how)


@pytest.mark.parametrize("name", ["requests", "Requests", "python_dateutil", "Django", "numpy", "urllib3", "boto3"])
def test_popular_names_and_their_spellings_are_never_typosquats(pypi: TyposquatIndex, name: str) -> None:
    assert pypi.check(name) is None


@pytest.mark.parametrize("name", ["acme-internal-billing", "zzqxv", "my-company-tool", "ab", "xy-z"])
def test_unrelated_and_short_names_are_not_typosquats(pypi: TyposquatIndex, name: str) -> None:
    assert pypi.check(name) is None


def test_every_popular_name_is_itself_clean(pypi: TyposquatIndex, npm: TyposquatIndex) -> None:
    assert [n for n in popular_names("pypi") if pypi.check(n)] == []
    assert [n for n in popular_names("npm") if npm.check(n)] == []


def test_approved_names_are_checked_too() -> None:
    approved = TyposquatIndex("maven").add(["com.acme:billing-core"], "approved")
    match = approved.check("com.acme:biling-core")
    assert match is not None and (match.name, match.source) == ("com.acme:billing-core", "approved")
    assert "approved name 'com.acme:billing-core'" in match.message("com.acme:biling-core")
    assert approved.check("com.acme:billing-core") is None


def test_edit_helpers() -> None:
    assert one_edit("flask", "flasks") and one_edit("flask", "flak") and one_edit("flask", "fl4sk")
    assert not one_edit("flask", "flask") and not one_edit("flask", "falsk") and not one_edit("flask", "fl")
    assert swapped_pair("flask", "falsk") and not swapped_pair("flask", "flaks2")
    assert not swapped_pair("abcd", "badc")
    assert fold_separators("@babel/core") == fold_separators("babel-core") == "babelcore"
    assert skeleton("r\u0435qu\u0435sts") == "requests"


def test_shipped_lists_match_the_shared_data(shared_data: Path) -> None:
    for ecosystem in ECOSYSTEMS:
        shipped = popular_names(ecosystem)
        source = parse((shared_data / "popular" / f"{ecosystem}-top-5000.txt").read_text().splitlines())
        assert list(shipped) == source[:LIMIT]
        assert len(shipped) == 5000
