"""OSV range evaluation: every event kind, ordering, and each supported ecosystem."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foss_registry import ecosystems
from foss_registry.vulns.matcher import (
    compile_affected,
    compile_record,
    is_affected,
    matching_records,
    prepare_version,
    record_matches,
)

from .builders import TOY, affected, entry, make_record


def toy_affected(version: str, *ranges: object, versions: list[str] | None = None) -> bool:
    return is_affected(affected(*ranges, versions=versions, ecosystem="Toy"), TOY, version)


# --- the algorithm on a toy ordering ---------------------------------------------------


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.9", False),
        ("1.0", True),
        ("1", True),
        ("1.5", True),
        ("1.9.9", True),
        ("2.0", False),
        ("3", False),
    ],
)
def test_introduced_and_fixed_make_a_half_open_interval(version: str, expected: bool) -> None:
    assert toy_affected(version, [{"introduced": "1.0"}, {"fixed": "2.0"}]) is expected


@pytest.mark.parametrize("version", ["0", "0.0.1", "1", "999.999"])
def test_introduced_zero_means_every_version(version: str) -> None:
    assert toy_affected(version, [{"introduced": "0"}])


def test_introduced_zero_with_fixed() -> None:
    events = [{"introduced": "0"}, {"fixed": "1.2"}]
    assert toy_affected("0", events)
    assert toy_affected("1.1.9", events)
    assert not toy_affected("1.2", events)


def test_introduced_without_end_is_open_ended() -> None:
    assert not toy_affected("1.9", [{"introduced": "2.0"}])
    assert toy_affected("2.0", [{"introduced": "2.0"}])
    assert toy_affected("50", [{"introduced": "2.0"}])


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.9", False), ("1.0", True), ("1.5", True), ("1.5.0", True), ("1.5.1", False)],
)
def test_last_affected_is_inclusive(version: str, expected: bool) -> None:
    assert toy_affected(version, [{"introduced": "1.0"}, {"last_affected": "1.5"}]) is expected


@pytest.mark.parametrize(
    ("version", "expected"), [("0", True), ("1.9", True), ("2.0", False), ("2.1", False)]
)
def test_limit_caps_the_range(version: str, expected: bool) -> None:
    assert toy_affected(version, [{"introduced": "0"}, {"limit": "2.0"}]) is expected


def test_limit_star_is_infinity() -> None:
    assert toy_affected("1000", [{"introduced": "0"}, {"limit": "*"}])


def test_any_of_several_limits_admits_a_version() -> None:
    events = [{"introduced": "1.0"}, {"limit": "1.5"}, {"limit": "3.0"}]
    assert toy_affected("2.0", events)  # below the 3.0 limit
    assert not toy_affected("3.0", events)
    assert not toy_affected("0.5", events)  # below every limit but never introduced


def test_limit_and_fixed_both_apply() -> None:
    events = [{"introduced": "1.0"}, {"fixed": "2.0"}, {"introduced": "3.0"}, {"limit": "4.0"}]
    assert toy_affected("1.5", events)
    assert not toy_affected("2.5", events)
    assert toy_affected("3.5", events)
    assert not toy_affected("4.0", events)


def test_several_intervals_in_one_range() -> None:
    events = [{"introduced": "1.0"}, {"fixed": "1.0.2"}, {"introduced": "3.0"}, {"fixed": "3.2.5"}]
    expected = {
        "0.9": False,
        "1.0.1": True,
        "1.0.2": False,
        "2.9": False,
        "3.0": True,
        "3.2.5": False,
    }
    assert {v: toy_affected(v, events) for v in expected} == expected


def test_several_ranges_are_a_union() -> None:
    ranges = ([{"introduced": "1.0"}, {"fixed": "2.0"}], [{"introduced": "5.0"}, {"fixed": "6.0"}])
    assert toy_affected("1.5", *ranges)
    assert toy_affected("5.5", *ranges)
    assert not toy_affected("3.0", *ranges)


def test_out_of_order_events_are_sorted_first() -> None:
    # The shape of PYSEC-2023-192 (urllib3): the 2.x interval is listed before the 1.x one.
    events = [
        {"introduced": "2.0.0"},
        {"fixed": "2.0.6"},
        {"introduced": "0"},
        {"fixed": "1.26.17"},
    ]
    assert toy_affected("1.26.16", events)
    assert not toy_affected("1.26.17", events)
    assert not toy_affected("1.27", events)
    assert toy_affected("2.0.5", events)
    assert not toy_affected("2.0.6", events)


def test_versions_list_only() -> None:
    listed = ["1.0", "1.2"]
    assert toy_affected("1.0", versions=listed)
    assert toy_affected("1.0.0", versions=listed)  # canonical forms compare equal
    assert toy_affected("1.2", versions=listed)
    assert not toy_affected("1.1", versions=listed)


def test_versions_list_and_ranges_are_a_union() -> None:
    rng = [{"introduced": "2.0"}, {"fixed": "3.0"}]
    assert toy_affected("1.1", rng, versions=["1.1"])
    assert toy_affected("2.5", rng, versions=["1.1"])
    assert not toy_affected("1.2", rng, versions=["1.1"])


def test_git_ranges_are_ignored() -> None:
    git = ("GIT", [{"introduced": "0"}, {"fixed": "0123456789abcdef0123456789abcdef01234567"}])
    assert not toy_affected("1.0", git)
    assert toy_affected("1.0", git, versions=["1.0"])


def test_semver_ranges_use_the_ecosystem_order() -> None:
    semver = ("SEMVER", [{"introduced": "1.2"}, {"fixed": "1.10"}])
    assert toy_affected("1.9", semver)  # numeric, not string, order: 1.9 < 1.10
    assert not toy_affected("1.10", semver)


def test_unknown_range_types_are_ignored() -> None:
    assert not toy_affected("1.0", ("SOMETHING", [{"introduced": "0"}]))


def test_a_range_without_introduced_affects_nothing() -> None:
    assert not toy_affected("1.0", [{"fixed": "2.0"}])


def test_equal_versions_keep_the_record_order() -> None:
    # Listed introduced-then-fixed at one version: an empty interval.
    assert not toy_affected("1.0", [{"introduced": "1.0"}, {"fixed": "1.0"}])
    # Fixed-then-introduced: the vulnerability comes back at that version.
    assert toy_affected("1.0", [{"fixed": "1.0"}, {"introduced": "1.0"}])


def test_adjacent_intervals_listed_out_of_order_stay_joined() -> None:
    # PYSEC-2022-236 (pyspark): [0, 3.1.1) and [3.1.1, 3.1.3) with [3.2.0, 3.2.2) between.
    events = [
        {"introduced": "0"},
        {"fixed": "3.1.1"},
        {"introduced": "3.2.0"},
        {"fixed": "3.2.2"},
        {"introduced": "3.1.1"},
        {"fixed": "3.1.3"},
    ]
    expected = {"3.1.0": True, "3.1.1": True, "3.1.2": True, "3.1.3": False, "3.2.1": True}
    assert {v: toy_affected(v, events) for v in expected} == expected


@pytest.mark.parametrize("order", [0, 1])
def test_introduced_and_last_affected_at_one_version(order: int) -> None:
    events = [{"introduced": "1.0"}, {"last_affected": "1.0"}]
    assert toy_affected("1.0", events[:: 1 if order == 0 else -1])
    assert not toy_affected("0.9", events[:: 1 if order == 0 else -1])
    # In record order the range is exactly 1.0.
    assert not toy_affected("1.0.1", events)


def test_an_unparseable_queried_version_is_not_comparable() -> None:
    assert not toy_affected("1.0-custom", [{"introduced": "0"}])
    # ...but an identical entry of the versions list still matches it.
    assert toy_affected("1.0-custom", [{"introduced": "0"}], versions=["1.0-custom"])


def test_unparseable_event_versions_are_skipped_and_reported() -> None:
    entry_ = affected([{"introduced": "1.0"}, {"fixed": "2.0-beta"}], ecosystem="Toy")
    compiled = compile_affected(entry_, TOY)
    assert compiled.problems == ("event version '2.0-beta' is not a valid toy version; skipped",)
    # The unparseable fix is ignored, so the range stays open: err towards flagging.
    assert compiled.contains(prepare_version(TOY, "3.0"))
    assert not compiled.contains(prepare_version(TOY, "0.5"))


def test_an_unparseable_introduced_event_introduces_nothing() -> None:
    assert not toy_affected("5", [{"introduced": "x.y"}])


def test_an_event_object_with_two_fields_counts_as_two_events() -> None:
    # Invalid per the schema, but seen in hand-made data; read it literally.
    assert toy_affected("1.5", [{"introduced": "1.0", "fixed": "2.0"}])
    assert not toy_affected("2.5", [{"introduced": "1.0", "fixed": "2.0"}])


# --- properties ---------------------------------------------------------------------------

toy_versions = st.lists(st.integers(0, 12), min_size=1, max_size=3).map(
    lambda parts: ".".join(map(str, parts))
)


@given(a=toy_versions, b=toy_versions, v=toy_versions)
def test_property_introduced_fixed_is_half_open(a: str, b: str, v: str) -> None:
    ka, kb, kv = TOY.sort_key(a), TOY.sort_key(b), TOY.sort_key(v)
    # [a, b) when a < b; when b < a the fix sorts first and is moot, so affected
    # from a on; equal bounds keep the record's order (introduced first: empty).
    expected = ka <= kv < kb if ka <= kb else kv >= ka
    assert toy_affected(v, [{"introduced": a}, {"fixed": b}]) is expected
    if ka != kb:
        assert toy_affected(v, [{"fixed": b}, {"introduced": a}]) is expected


@given(a=toy_versions, b=toy_versions, v=toy_versions)
def test_property_introduced_last_affected_is_closed(a: str, b: str, v: str) -> None:
    ka, kb, kv = TOY.sort_key(a), TOY.sort_key(b), TOY.sort_key(v)
    expected = ka <= kv <= kb if ka <= kb else kv >= ka
    assert toy_affected(v, [{"introduced": a}, {"last_affected": b}]) is expected
    if ka != kb:
        assert toy_affected(v, [{"last_affected": b}, {"introduced": a}]) is expected


@settings(max_examples=300)
@given(
    bounds=st.lists(toy_versions, min_size=1, max_size=8, unique_by=TOY.sort_key),
    v=toy_versions,
    seed=st.integers(0, 2**32 - 1),
)
def test_property_event_order_does_not_matter(bounds: list[str], v: str, seed: int) -> None:
    # Sorted bounds alternate introduced/fixed: a union of half-open intervals.
    ordered = sorted(bounds, key=TOY.sort_key)
    events = [{"introduced" if i % 2 == 0 else "fixed": bound} for i, bound in enumerate(ordered)]
    kv = TOY.sort_key(v)
    keys = [TOY.sort_key(b) for b in ordered]
    expected = sum(1 for k in keys if k <= kv) % 2 == 1
    shuffled = events[:]
    random.Random(seed).shuffle(shuffled)
    assert toy_affected(v, events) is expected
    assert toy_affected(v, shuffled) is expected


# --- record level -----------------------------------------------------------------------


def test_record_matches_returns_the_matching_entries() -> None:
    record = make_record(
        [
            entry([{"introduced": "0"}, {"fixed": "1.0"}], name="demo"),
            entry([{"introduced": "2.0"}, {"fixed": "3.0"}], name="demo"),
            entry([{"introduced": "0"}], name="other"),
        ]
    )
    assert record_matches(record, "pypi", "demo", "0.5") == [record.affected[0]]
    assert record_matches(record, "pypi", "demo", "2.5") == [record.affected[1]]
    assert record_matches(record, "pypi", "demo", "1.5") == []


def test_a_withdrawn_record_never_matches() -> None:
    record = make_record(
        [entry([{"introduced": "0"}], versions=["1.0"], name="demo")],
        withdrawn="2024-02-01T00:00:00Z",
    )
    assert record.is_withdrawn
    assert record_matches(record, "pypi", "demo", "1.0") == []


def test_names_are_compared_normalised() -> None:
    record = make_record([entry([{"introduced": "0"}], name="Zope.Interface")])
    pypi = ecosystems.get("pypi")
    assert record_matches(record, pypi, pypi.normalize_name("zope_interface"), "5.0")


def test_the_ecosystem_must_match() -> None:
    record = make_record([entry([{"introduced": "0"}], ecosystem="npm", name="demo")])
    assert record_matches(record, "pypi", "demo", "1.0") == []
    assert record_matches(record, "npm", "demo", "1.0.0")


def test_unsupported_ecosystems_never_match() -> None:
    record = make_record([entry([{"introduced": "0"}], ecosystem="crates.io", name="demo")])
    compiled = compile_record(record)
    assert compiled.entries[0].ecosystem is None
    for eco in ("pypi", "npm", "maven"):
        assert record_matches(compiled, eco, "demo", "1.0.0") == []


def test_matching_records_prepares_the_version_once() -> None:
    hit = make_record([entry([{"introduced": "0"}, {"fixed": "2"}], name="demo")], id="A-1")
    miss = make_record([entry([{"introduced": "3"}], name="demo")], id="A-2")
    found = matching_records([hit, compile_record(miss)], "pypi", "demo", "1.0")
    assert [(r.id, len(e)) for r, e in found] == [("A-1", 1)]


# --- real ecosystems --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.1.9", True),
        ("2.2.0rc1", True),  # a pre-release of the fix is still before it
        ("2.2", False),
        ("2.2.0", False),
        ("2.2.0.post1", False),
        ("2!1.0", False),  # a later epoch sorts after every epoch-0 version
        ("1.0.dev0", True),
    ],
)
def test_pypi_ranges_use_pep_440(version: str, expected: bool) -> None:
    rng = [{"introduced": "0"}, {"fixed": "2.2.0"}]
    assert is_affected(affected(rng, ecosystem="PyPI"), "pypi", version) is expected


def test_pypi_versions_list_compares_canonical_forms() -> None:
    listed = affected(versions=["1.0", "2.0.0rc1"], ecosystem="PyPI")
    assert is_affected(listed, "pypi", "1.0.0")
    assert is_affected(listed, "pypi", "2.0.0-rc1")  # PEP 440 normalises the spelling
    assert not is_affected(listed, "pypi", "1.0.1")


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.0.0-alpha", False),
        ("1.0.0", True),
        ("1.2.9", True),
        ("1.10.0-beta.1", True),  # pre-release of the fix sorts before it
        ("1.10.0", False),
        ("1.10.0+build.5", False),  # build metadata does not change precedence
        ("2.0.0", False),
    ],
)
def test_npm_semver_ranges(version: str, expected: bool) -> None:
    rng = ("SEMVER", [{"introduced": "1.0.0"}, {"fixed": "1.10.0"}])
    assert is_affected(affected(rng, ecosystem="npm"), "npm", version) is expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.14.1", True),
        ("2.15.0-rc1", True),  # Maven orders rc before the release
        ("2.15.0", False),
        ("2.4", False),
        ("2.12.1", False),
        ("2.2", True),
        ("2.3.1", False),
    ],
)
def test_maven_ranges_use_maven_ordering(version: str, expected: bool) -> None:
    entries = [
        affected([{"introduced": "2.13.0"}, {"fixed": "2.15.0"}], ecosystem="Maven", name="g:a"),
        affected([{"introduced": "0"}, {"fixed": "2.3.1"}], ecosystem="Maven", name="g:a"),
    ]
    assert any(is_affected(e, "maven", version) for e in entries) is expected


def test_maven_release_qualifier_equals_the_plain_version() -> None:
    rng = affected(
        [{"introduced": "0"}, {"fixed": "5.2.20.RELEASE"}], ecosystem="Maven", name="g:a"
    )
    assert is_affected(rng, "maven", "5.2.19.RELEASE")
    assert not is_affected(rng, "maven", "5.2.20")
    assert not is_affected(rng, "maven", "5.2.21")


@pytest.mark.parametrize(
    ("eco", "osv_eco", "name"),
    [("pypi", "PyPI", "demo"), ("npm", "npm", "demo"), ("maven", "Maven", "org.example:demo")],
)
def test_unparseable_queried_versions_do_not_crash(eco: str, osv_eco: str, name: str) -> None:
    record = make_record([entry([{"introduced": "0"}], ecosystem=osv_eco, name=name)])
    normalised = ecosystems.get(eco).normalize_name(name)
    for bad in ("", "not a version !!", "\x00"):
        assert isinstance(record_matches(record, eco, normalised, bad), list)
