"""SQLite's description-word index and the search counts stay in step with the versions.

A one-word search on SQLite answers its page and its ``total`` from
``package_description_words`` and the version counts of
``package_name_suffixes`` (migration 0004), and from the per-word totals of
``package_word_totals`` (migration 0005); a search of one or two characters
from the per-prefix counts and one of several common words from the kept word
sets (migration 0016); all without reading the versions themselves, so a count
that drifted would show as a wrong ``total`` or a missing result. These tests
rebuild every one from the stored versions after every kind of change and compare.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from foss_registry import search_index, storage
from foss_registry.db import make_engine
from foss_registry.packages import name_terms, search, word_sets
from foss_registry.packages import records as reads

ROW = (
    "INSERT INTO package_versions (ecosystem, name, normalized_name, version, "
    "canonical_version, sort_token, purl, status, description, submitted_by, submitted_at, "
    "flags, policy_reasons) VALUES (:e, :n, :n, :v, :v, :v, 'pkg:x', 'pending', :d, 't', "
    "'2026-01-01 00:00:00.000000', '[]', '[]')"
)


def _insert(
    engine: Engine, ecosystem: str, name: str, version: str, description: str | None
) -> None:
    with engine.begin() as conn:
        conn.execute(text(ROW), {"e": ecosystem, "n": name, "v": version, "d": description})


def _execute(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql))


def _expected_words(engine: Engine) -> Counter[tuple[str, int, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT ecosystem, normalized_name, description FROM package_versions")
        ).all()
    return Counter(
        (word, int(word in name.lower()), name, ecosystem)
        for ecosystem, name, description in rows
        for word in search_index.words(description)
    )


def _stored_words(engine: Engine) -> Counter[tuple[str, int, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT word, in_name, normalized_name, ecosystem, versions "
                "FROM package_description_words"
            )
        ).all()
    return Counter({(w, i, n, e): count for w, i, n, e, count in rows})


def _word_totals(engine: Engine) -> tuple[dict[tuple[str, int, str], int], Counter[Any]]:
    """The stored per-word totals, and the sums of the words table they stand for."""
    with engine.connect() as conn:
        stored = {
            (w, i, e): versions
            for w, i, e, versions in conn.execute(text("SELECT * FROM package_word_totals"))
        }
    summed: Counter[Any] = Counter()
    for (word, in_name, _name, ecosystem), versions in _stored_words(engine).items():
        summed[word, in_name, ecosystem] += versions
    return stored, summed


def _suffix_earlier(engine: Engine) -> dict[tuple[str, str], set[tuple[str, int]]]:
    with engine.connect() as conn:
        stored: dict[tuple[str, str], set[tuple[str, int]]] = {}
        for suffix, eco, name, earlier in conn.execute(
            text("SELECT suffix, ecosystem, normalized_name, earlier FROM package_name_suffixes")
        ):
            stored.setdefault((eco, name), set()).add((suffix, earlier))
    return stored


def _suffix_counts(
    engine: Engine,
) -> tuple[dict[tuple[str, str], set[Any]], Counter[tuple[str, str]], Counter[Any]]:
    """The version counts the suffix rows carry per name (all, and per status), and the real ones."""
    with engine.connect() as conn:
        carried: dict[tuple[str, str], set[Any]] = {}
        for eco, name, *versions in conn.execute(
            text(
                "SELECT ecosystem, normalized_name, versions, pending, approved, rejected "
                "FROM package_name_suffixes"
            )
        ):
            carried.setdefault((eco, name), set()).add(tuple(versions))
        rows = conn.execute(
            text("SELECT ecosystem, normalized_name, status FROM package_versions")
        ).all()
    real = Counter((eco, name) for eco, name, _status in rows if len(name) >= 3)
    by_status = Counter((eco, name, status) for eco, name, status in rows if len(name) >= 3)
    return carried, real, by_status


def _prefix_totals(engine: Engine) -> tuple[dict[Any, int], Counter[Any]]:
    """The stored per-prefix counts (without the emptied ones), and the versions' own."""
    with engine.connect() as conn:
        stored = {
            (p, e, s): versions
            for p, e, s, versions in conn.execute(text("SELECT * FROM package_name_prefix_totals"))
            if versions
        }
        rows = conn.execute(
            text("SELECT normalized_name, ecosystem, status FROM package_versions")
        ).all()
    real: Counter[Any] = Counter()
    for name, ecosystem, status in rows:
        for prefix in {search_index.ascii_lower(name[:1]), search_index.ascii_lower(name[:2])}:
            real[prefix, ecosystem, status] += 1
    return stored, real


def _set_totals(engine: Engine) -> tuple[dict[Any, int], Counter[Any]]:
    """The kept word sets' counts (without the emptied ones), and the versions' own.

    Each by whether the version's name contains the set's rarest word.
    """
    with engine.connect() as conn:
        stored = {
            (w, i, e, s): versions
            for w, i, e, s, versions in conn.execute(text("SELECT * FROM package_word_set_totals"))
            if versions
        }
        kept = conn.execute(text("SELECT words, rarest FROM package_word_sets")).all()
        rows = conn.execute(
            text("SELECT description, normalized_name, ecosystem, status FROM package_versions")
        ).all()
    real: Counter[Any] = Counter()
    for words, rarest in kept:
        for description, name, ecosystem, status in rows:
            if search_index.has_words(description, words.split(" ")):
                in_name = int(rarest in search_index.ascii_lower(name))
                real[words, in_name, ecosystem, status] += 1
    return stored, real


def _set_names(engine: Engine) -> tuple[dict[Any, list[int]], dict[Any, list[int]]]:
    """The kept names of the word sets (all of them), and those of the sets that keep names.

    Each (set, name, ecosystem) with its versions per status whose description has
    every word of the set.
    """
    with engine.connect() as conn:
        stored = {
            (w, n, e): [p, a, r]
            for w, n, e, p, a, r in conn.execute(text("SELECT * FROM package_word_set_names"))
        }
        keeping = (
            conn.execute(
                text("SELECT words FROM package_word_sets WHERE names AND counting IS NULL")
            )
            .scalars()
            .all()
        )
        rows = conn.execute(
            text("SELECT description, normalized_name, ecosystem, status FROM package_versions")
        ).all()
    real: dict[Any, list[int]] = {}
    for words in keeping:
        for description, name, ecosystem, status in rows:
            if search_index.has_words(description, words.split(" ")):
                counts = real.setdefault((words, name, ecosystem), [0, 0, 0])
                counts[word_sets.STATUSES.index(status)] += 1
    return stored, real


def _name_statuses(engine: Engine) -> tuple[dict[Any, int], Counter[Any]]:
    """The stored versions per name and status, and the versions' own."""
    with engine.connect() as conn:
        stored = {
            (e, n, s): versions
            for e, n, s, versions in conn.execute(text("SELECT * FROM package_name_statuses"))
        }
        real = Counter(
            tuple(row)
            for row in conn.execute(
                text("SELECT ecosystem, normalized_name, status FROM package_versions")
            )
        )
    return stored, real


def _assert_in_step(engine: Engine) -> None:
    assert _stored_words(engine) == _expected_words(engine)
    stored_statuses, real_statuses = _name_statuses(engine)
    assert stored_statuses == dict(real_statuses)
    stored_prefixes, real_prefixes = _prefix_totals(engine)
    assert stored_prefixes == dict(real_prefixes)
    stored_sets, real_sets = _set_totals(engine)
    assert stored_sets == dict(real_sets)
    stored_names, real_names = _set_names(engine)
    assert stored_names == real_names
    stored_totals, summed_totals = _word_totals(engine)
    assert stored_totals == dict(summed_totals)
    carried, real, by_status = _suffix_counts(engine)
    statuses = ("pending", "approved", "rejected")
    assert carried == {
        key: {(count, *(by_status[(*key, status)] for status in statuses))}
        for key, count in real.items()
    }
    assert _suffix_earlier(engine) == {
        (eco, name): set(search_index.name_suffixes(name)) for eco, name in real
    }


def _search(
    engine: Engine, term: str, limit: int = 1000, offset: int = 0, **filters: str
) -> tuple[int, list[tuple[str, str]]]:
    with engine.connect() as conn:
        page = search.list_packages(
            reads.sqlalchemy_reader(conn),
            "sqlite",
            search=term,
            limit=limit,
            offset=offset,
            **filters,
        )
    return page.total, [(p.name, p.version) for p in page.packages]


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'words.db'}")
    storage.upgrade(engine)
    yield engine
    engine.dispose()


def test_versions_stored_before_the_migration_are_indexed(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        storage.upgrade(engine, "0003")
        _insert(engine, "pypi", "requests", "2.0", "HTTP for Humans.")
        _insert(engine, "pypi", "requests", "2.31", "Python HTTP for Humans.")
        _insert(engine, "npm", "http-proxy", "1.18.1", "HTTP proxying for the masses")
        _insert(engine, "npm", "left-pad", "1.3.0", None)
        storage.upgrade(engine)
        _assert_in_step(engine)
        # "http" is in one name and in three descriptions: each version counted once.
        assert _search(engine, "http") == (
            3,
            [("http-proxy", "1.18.1"), ("requests", "2.31"), ("requests", "2.0")],
        )
        assert _search(engine, "python") == (1, [("requests", "2.31")])
        storage.upgrade(engine, "0003")
        storage.upgrade(engine)
        _assert_in_step(engine)
    finally:
        engine.dispose()


def test_inserts_updates_and_deletes_keep_the_indexes_in_step(engine: Engine) -> None:
    _insert(engine, "pypi", "zope-interface", "5.0", "Interfaces for Python")
    _insert(engine, "pypi", "zope-interface", "6.0", "Interfaces for Python, typed")
    _insert(engine, "maven", "org.zope:interface", "1.0", "Zope interfaces for the JVM")
    _insert(engine, "pypi", "typed-ast", "1.5", "A typed AST: fork of ast")
    _assert_in_step(engine)
    assert _search(engine, "typed") == (2, [("typed-ast", "1.5"), ("zope-interface", "6.0")])

    _execute(engine, "UPDATE package_versions SET description = 'Gone' WHERE version = '6.0'")
    _assert_in_step(engine)
    assert _search(engine, "typed") == (1, [("typed-ast", "1.5")])

    _execute(engine, "UPDATE package_versions SET status = 'approved'")
    _execute(engine, "DELETE FROM package_versions WHERE version = '5.0'")
    _assert_in_step(engine)
    assert _search(engine, "interfaces") == (1, [("org.zope:interface", "1.0")])

    _execute(engine, "DELETE FROM package_versions WHERE ecosystem = 'pypi'")
    _assert_in_step(engine)
    assert _stored_words(engine) == Counter(
        {
            (w, int(w in "org.zope:interface"), "org.zope:interface", "maven"): 1
            for w in ("zope", "interfaces", "for", "the", "jvm")
        }
    )


def test_only_the_versions_whose_description_has_the_word_are_found(engine: Engine) -> None:
    for version, description in (
        ("1.0", "YAML parser"),
        ("2.0", "YAML and TOML parser"),
        ("3.0", "TOML parser"),
        ("4.0", None),
    ):
        _insert(engine, "pypi", "config-kit", version, description)
    _insert(engine, "npm", "toml-js", "0.1.0", "Parse it")
    assert _search(engine, "toml") == (
        3,
        [("toml-js", "0.1.0"), ("config-kit", "3.0"), ("config-kit", "2.0")],
    )
    assert _search(engine, "TOML", ecosystem="pypi") == (
        2,
        [("config-kit", "3.0"), ("config-kit", "2.0")],
    )
    # Paging through the partly matching name gives the same versions in the same order.
    pages = []
    for offset in range(3):
        with engine.connect() as conn:
            page = search.list_packages(
                reads.sqlalchemy_reader(conn), "sqlite", search="toml", limit=1, offset=offset
            )
        assert page.total == 3
        pages += [(p.name, p.version) for p in page.packages]
    assert pages == _search(engine, "toml")[1]
    assert _search(engine, "yaml toml") == (1, [("config-kit", "2.0")])


def test_words_are_letters_and_digits_without_case_or_accents(engine: Engine) -> None:
    _insert(
        engine,
        "pypi",
        "unidecode",
        "1.3",
        "ASCII transliterations of Unicode text; für Übersetzer_2",
    )
    assert search_index.words("ASCII transliterations of Unicode text; für Übersetzer_2") == [
        "ascii",
        "transliterations",
        "of",
        "unicode",
        "text",
        "fur",
        "ubersetzer",
        "2",
    ]
    assert _search(engine, "Fur")[0] == 1
    assert _search(engine, "übersetzer")[0] == 1
    assert _search(engine, "transliteration")[0] == 0


def test_a_connection_without_the_word_function_cannot_write_versions(engine: Engine) -> None:
    raw = sqlite3.connect(str(engine.url.database))
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such function: foss_"):
            raw.execute(
                ROW.replace(":e", "'pypi'")
                .replace(":n", "'x-y'")
                .replace(":v", "'1'")
                .replace(":d", "'text'")
            )
        raw.rollback()
    finally:
        raw.close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM package_versions")).scalar_one() == 0


def test_words_missing_from_different_versions_are_counted_version_by_version(
    engine: Engine,
) -> None:
    # Each word is in three of the four versions: only the descriptions tell
    # which versions have both.
    for version, description in (
        ("1.0", "YAML and TOML"),
        ("2.0", "YAML only"),
        ("3.0", "TOML only"),
        ("4.0", "YAML, TOML and JSON"),
    ):
        _insert(engine, "pypi", "conf", version, description)
    _insert(engine, "npm", "yaml-toml", "1.0.0", "Neither word here")
    assert _search(engine, "yaml toml") == (2, [("conf", "4.0"), ("conf", "1.0")])
    assert _search(engine, "toml yaml json") == (1, [("conf", "4.0")])
    # The name that is the term first; then the descriptions with both words.
    assert _search(engine, "yaml-toml") == (
        3,
        [("yaml-toml", "1.0.0"), ("conf", "4.0"), ("conf", "1.0")],
    )
    assert _search(engine, "yaml toml", status="pending") == _search(engine, "yaml toml")


def test_the_word_a_search_of_several_walks_first_does_not_change_its_pages(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search of several words walks the word its last search found rarest: any order answers."""
    monkeypatch.setattr(search, "FIRST_NAMES", 2)
    monkeypatch.setattr(search, "FIRST_CHUNK", 2)
    for i in range(12):
        described = ("fast json parser", "json parser", "fast parser", "fast json")[i % 4]
        # Some names have a word of the term in them (the other range of its rows).
        name = f"json{i:02d}" if i % 3 == 0 else f"n{i:02d}"
        _insert(engine, ("pypi", "npm")[i % 2], name, "1.0", described)
        _insert(engine, "pypi", name, "2.0", "fast json parser")
    _insert(engine, "pypi", "json-parser", "1.0", "none of the words")  # not "json parser"
    _execute(engine, "UPDATE package_versions SET status = 'approved' WHERE version = '2.0'")
    pages = [
        ("json parser", {}),
        ("fast json parser", {}),
        ("json parser", {"status": "approved"}),
        ("json parser", {"ecosystem": "npm"}),
    ]

    def answers() -> list[Any]:
        return [
            _search(engine, term, limit=limit, offset=offset, **filters)
            for term, filters in pages
            for limit, offset in ((1000, 0), (3, 0), (3, 4), (5, 9))
        ]

    # No search of these sets yet: each page walks the rarest word.
    monkeypatch.setattr(search, "_RAREST_FIRST", {})
    expected = answers()
    assert expected[0][0] == 12 + 6  # every 2.0, half the 1.0s
    # Each page walks the word given here first, whichever is rarest.
    monkeypatch.setattr(search, "_remember_rarest", lambda key, ordered: None)
    for order in (["json", "parser"], ["parser", "json"]):
        three = [*order, "fast"]
        guesses = {"json parser": order, "fast json parser": three}
        monkeypatch.setattr(search, "_RAREST_FIRST", guesses)
        assert answers() == expected, order


def test_a_name_holding_a_term_whose_word_it_lacks_is_found_once(engine: Engine) -> None:
    """ "für" is in the name ``xfürx`` (stored as is, not through an ecosystem's checks) but
    its word, "fur", is not: the name is found by the term, not once more by its description.
    """
    _insert(engine, "npm", "xfürx", "1.0.0", "für everyone")
    _insert(engine, "npm", "plain", "1.0.0", "fur and für")
    _insert(engine, "npm", "other", "1.0.0", "nothing")
    assert _search(engine, "für") == (2, [("plain", "1.0.0"), ("xfürx", "1.0.0")])
    assert _search(engine, "für", limit=1, offset=1) == (2, [("xfürx", "1.0.0")])


def test_pages_reach_past_the_first_names_starting_with_the_term(engine: Engine) -> None:
    # More names start with "kit" than a search reads at first, most with one version.
    names = [f"kit-{i:02}" for i in range(45)]
    for name in names:
        _insert(engine, "pypi", name, "1.0", "A kit")
    _insert(engine, "pypi", "kit-07", "2.0", "A kit")
    _insert(engine, "npm", "Kit-Box", "1.0.0", "A kit with capitals")
    _insert(engine, "pypi", "toolkit", "1.0", "Contains the term")
    expected = [("Kit-Box", "1.0.0")]
    for name in names:
        expected += [(name, "2.0")] if name == "kit-07" else []
        expected.append((name, "1.0"))
    expected.append(("toolkit", "1.0"))
    assert _search(engine, "kit") == (len(expected), expected)
    for limit, offset in ((5, 33), (10, 40), (1, 46), (3, 45)):
        assert _search(engine, "kit", limit=limit, offset=offset) == (
            len(expected),
            expected[offset : offset + limit],
        )


def test_short_terms_count_by_prefix_ecosystem_and_status(engine: Engine) -> None:
    for name, version in (("js", "1"), ("json", "1"), ("json", "2"), ("J", "1"), ("jq", "1")):
        _insert(engine, "pypi", name, version, None)
    _insert(engine, "npm", "JSONStream", "1.0.0", None)
    _assert_in_step(engine)
    assert _search(engine, "js") == (
        4,
        [("js", "1"), ("JSONStream", "1.0.0"), ("json", "2"), ("json", "1")],
    )
    assert _search(engine, "J", limit=2, offset=1) == (6, [("JSONStream", "1.0.0"), ("jq", "1")])
    _execute(engine, "UPDATE package_versions SET status = 'approved' WHERE version = '2'")
    _execute(engine, "DELETE FROM package_versions WHERE normalized_name = 'js'")
    _execute(engine, "UPDATE package_versions SET normalized_name = 'xq' WHERE name = 'jq'")
    _assert_in_step(engine)
    assert _search(engine, "js", status="approved") == (1, [("json", "2")])
    assert _search(engine, "js", ecosystem="npm", status="pending") == (
        1,
        [("JSONStream", "1.0.0")],
    )
    assert _search(engine, "x") == (1, [("jq", "1")])


def test_kept_word_sets_stay_exact_through_every_change(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "KEPT_SETS_FROM", 1)
    _insert(engine, "pypi", "alpha", "1.0", "A library for HTTP")
    _insert(engine, "pypi", "alpha", "2.0", "A library")
    _insert(engine, "npm", "beta", "1.0.0", "For the library of HTTP")
    # Counted the long way, and the set kept for the next search.
    assert _search(engine, "library for") == (2, [("alpha", "1.0"), ("beta", "1.0.0")])
    assert _search(engine, "http for library")[0] == 2
    word_sets.wait()
    _assert_in_step(engine)
    with engine.connect() as conn:
        kept = {w for (w,) in conn.execute(text("SELECT words FROM package_word_sets"))}
    assert kept == {"for library", "for http library"}

    _insert(engine, "pypi", "gamma", "0.1", "library FOR all")
    _insert(engine, "pypi", "library-for-x", "1", "library, for x")
    _execute(
        engine, "UPDATE package_versions SET description = 'for a library' WHERE version = '2.0'"
    )
    _execute(engine, "UPDATE package_versions SET status = 'approved' WHERE ecosystem = 'npm'")
    _execute(engine, "DELETE FROM package_versions WHERE name = 'gamma'")
    _assert_in_step(engine)
    # From the kept counts now: each version once, the name that has the term first.
    assert _search(engine, "library for") == (
        4,
        [("alpha", "2.0"), ("alpha", "1.0"), ("beta", "1.0.0"), ("library-for-x", "1")],
    )
    assert _search(engine, "library-for") == (
        4,
        [("library-for-x", "1"), ("alpha", "2.0"), ("alpha", "1.0"), ("beta", "1.0.0")],
    )
    assert _search(engine, "library for", ecosystem="npm") == (1, [("beta", "1.0.0")])
    assert _search(engine, "library for", limit=2, offset=1) == (
        4,
        [("alpha", "1.0"), ("beta", "1.0.0")],
    )


def test_a_kept_word_with_a_status_counts_the_names_containing_it_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search of one word with a status: its kept set counts apart the names containing it."""
    monkeypatch.setattr(search_index, "KEPT_SETS_FROM", 1)
    _insert(engine, "pypi", "alpha", "1.0", "A library for HTTP")
    _insert(engine, "pypi", "mylibrary", "1.0", "the library")  # the name has the word too
    _insert(engine, "pypi", "mylibrary", "2.0", "nothing")  # found by its name alone
    _insert(engine, "npm", "beta", "1.0.0", "Library of HTTP")
    # Counted the long way, and the set of one word kept for the next search.
    assert _search(engine, "library", status="pending") == (
        4,
        [("alpha", "1.0"), ("beta", "1.0.0"), ("mylibrary", "2.0"), ("mylibrary", "1.0")],
    )
    word_sets.wait()
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT words, rarest FROM package_word_sets")).all()
    assert [tuple(row) for row in kept] == [("library", "library")]
    _assert_in_step(engine)

    # Writes after the set is kept: names with the word and without, a status
    # changed on either side, a delete on either side.
    _insert(engine, "pypi", "library-x", "1", "library x")
    _insert(engine, "pypi", "xlibrary", "1", "library x")
    _insert(engine, "pypi", "gamma", "0.1", "a library")
    _insert(engine, "pypi", "delta", "0.1", "a LIBRARY")
    _execute(engine, "UPDATE package_versions SET status = 'approved' WHERE name = 'beta'")
    _execute(
        engine,
        "UPDATE package_versions SET status = 'rejected' WHERE name = 'mylibrary' "
        "AND version = '1.0'",
    )
    _execute(engine, "DELETE FROM package_versions WHERE name IN ('delta', 'xlibrary')")
    _assert_in_step(engine)
    # From the kept counts now: each version once, the name starting with the term first.
    assert _search(engine, "library", status="pending") == (
        4,
        [("library-x", "1"), ("alpha", "1.0"), ("gamma", "0.1"), ("mylibrary", "2.0")],
    )
    assert _search(engine, "library", status="approved") == (1, [("beta", "1.0.0")])
    assert _search(engine, "library", status="rejected") == (1, [("mylibrary", "1.0")])
    assert _search(engine, "library", status="pending", ecosystem="npm") == (0, [])
    assert _search(engine, "library", status="pending", limit=2, offset=2) == (
        4,
        [("gamma", "0.1"), ("mylibrary", "2.0")],
    )


def _term_totals(engine: Engine, term: str) -> tuple[dict[Any, int], Counter[Any]]:
    """A kept name term's totals, and the versions whose lower-cased name contains it."""
    with engine.connect() as conn:
        kept = conn.execute(
            text(
                "SELECT ecosystem, status, versions FROM package_name_term_totals "
                "WHERE term = :t AND versions <> 0"
            ),
            {"t": term},
        ).all()
        real = conn.execute(
            text("SELECT ecosystem, status, normalized_name FROM package_versions")
        ).all()
        names = conn.execute(
            text(
                "SELECT place, normalized_name, ecosystem, pending, approved, rejected "
                "FROM package_name_term_names WHERE term = :t"
            ),
            {"t": term},
        ).all()
    expected = Counter((e, s) for e, s, name in real if term in search_index.ascii_lower(name))
    # Each name containing the term, with its place and its versions per status.
    by_name: dict[tuple[int, str, str], list[int]] = {}
    for ecosystem, status, name in real:
        folded = search_index.ascii_lower(name)
        if term in folded:
            place = 0 if folded == term else 1 if folded.startswith(term) else 2
            counts = by_name.setdefault((place, name, ecosystem), [0, 0, 0])
            counts[("pending", "approved", "rejected").index(status)] += 1
    assert {(p, n, e): [a, b, c] for p, n, e, a, b, c in names} == by_name
    return {(e, s): n for e, s, n in kept}, expected


def test_a_listing_reads_its_page_only_when_the_filters_match_far_enough(engine: Engine) -> None:
    """Filters alone: none match (nothing to walk), a page inside the total, one past it."""
    for name in ("alpha", "beta", "gamma"):
        _insert(engine, "pypi", name, "1.0", None)
    _insert(engine, "npm", "delta", "1.0.0", None)
    _execute(engine, "UPDATE package_versions SET status = 'approved' WHERE name <> 'beta'")
    assert _search(engine, "", ecosystem="docker", status="approved") == (0, [])
    assert _search(engine, "", ecosystem="npm", status="rejected") == (0, [])
    assert _search(engine, "", ecosystem="pypi", status="approved") == (
        2,
        [("alpha", "1.0"), ("gamma", "1.0")],
    )
    # The last row of the total, and nothing past it (the total still said).
    assert _search(engine, "", ecosystem="pypi", status="approved", limit=1, offset=1) == (
        2,
        [("gamma", "1.0")],
    )
    assert _search(engine, "", ecosystem="pypi", status="approved", offset=2) == (2, [])


def test_kept_name_terms_stay_exact_through_every_change(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A term inside many names is kept at its first search; its counts follow every change."""
    monkeypatch.setattr(name_terms, "KEPT_TERMS_FROM", 3)
    _insert(engine, "pypi", "http", "1.0", None)
    _insert(engine, "pypi", "httpx", "1.0", "An HTTP client")
    _insert(engine, "pypi", "httpx", "2.0", None)
    _insert(engine, "npm", "MyHTTPLib", "1.0.0", None)  # npm keeps capitals
    _insert(engine, "pypi", "aiohttp-retry", "1", None)
    _insert(engine, "pypi", "htt", "1", "an http server")  # described, not named
    first = _search(engine, "http")
    assert first == (
        6,
        [
            ("http", "1.0"),
            ("httpx", "2.0"),
            ("httpx", "1.0"),
            ("MyHTTPLib", "1.0.0"),  # names in code-point order: capitals first
            ("aiohttp-retry", "1"),
            ("htt", "1"),
        ],
    )
    name_terms.wait()
    with engine.connect() as conn:
        kept = [t for (t,) in conn.execute(text("SELECT term FROM package_name_terms"))]
    assert kept == ["http"]
    # A term inside fewer names is not kept.
    assert _search(engine, "aiohttp")[0] == 1
    name_terms.wait()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM package_name_terms")).scalar() == 1
    totals, expected = _term_totals(engine, "http")
    assert totals == expected == {("pypi", "pending"): 4, ("npm", "pending"): 1}
    # The same answer from the kept counts.
    assert _search(engine, "http") == first

    _insert(engine, "pypi", "xhttp", "3", None)
    _insert(engine, "pypi", "plain", "1", "nothing of it")
    _execute(engine, "UPDATE package_versions SET status = 'approved' WHERE name = 'httpx'")
    _execute(
        engine,
        "UPDATE package_versions SET status = 'rejected' WHERE ecosystem = 'npm'",
    )
    # A rename out of the term and one into it.
    _execute(
        engine,
        "UPDATE package_versions SET normalized_name = 'retry', name = 'retry' "
        "WHERE name = 'aiohttp-retry'",
    )
    _execute(
        engine,
        "UPDATE package_versions SET normalized_name = 'plainhttp', name = 'plainhttp' "
        "WHERE name = 'plain'",
    )
    _execute(engine, "DELETE FROM package_versions WHERE name = 'http'")
    totals, expected = _term_totals(engine, "http")
    assert totals == expected
    assert expected == {
        ("pypi", "approved"): 2,
        ("pypi", "pending"): 2,
        ("npm", "rejected"): 1,
    }
    assert _search(engine, "http") == (
        6,
        [
            ("httpx", "2.0"),
            ("httpx", "1.0"),
            ("MyHTTPLib", "1.0.0"),
            ("htt", "1"),
            ("plainhttp", "1"),
            ("xhttp", "3"),
        ],
    )
    assert _search(engine, "http", status="approved") == (2, [("httpx", "2.0"), ("httpx", "1.0")])
    assert _search(engine, "http", ecosystem="npm") == (1, [("MyHTTPLib", "1.0.0")])
    assert _search(engine, "http", ecosystem="pypi", status="pending") == (
        3,
        [("htt", "1"), ("plainhttp", "1"), ("xhttp", "3")],
    )
    assert _search(engine, "http", limit=2, offset=3) == (6, [("htt", "1"), ("plainhttp", "1")])

    # A term forgotten by hand, its rows left behind, is kept anew when next added (as a
    # server started later adds it at its first search).
    _execute(engine, "DELETE FROM package_name_terms")
    _insert(engine, "pypi", "morehttp", "1", None)
    assert _search(engine, "http")[0] == 7
    adding = sqlite3.connect(_database(engine), isolation_level=None)
    try:
        assert name_terms.add(adding, "http")
    finally:
        adding.close()
    totals, expected = _term_totals(engine, "http")
    assert totals == expected
    assert _search(engine, "http", ecosystem="pypi", limit=2, offset=4) == (
        6,
        [("plainhttp", "1"), ("xhttp", "3")],
    )


def _database(engine: Engine) -> str:
    database = engine.url.database
    assert database
    return database


def _counting(engine: Engine) -> dict[str, bool]:
    """The kept word sets, each with whether it is still being counted."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT words, counting FROM package_word_sets")).all()
    return {words: counting is not None for words, counting in rows}


def _catalogue(engine: Engine) -> None:
    """Names in the key order of the rarest word "library": ab, alpha, beta, gamma, library-z."""
    _insert(engine, "pypi", "ab", "1", "library for two letters")  # no suffix rows
    _insert(engine, "pypi", "alpha", "1.0", "A library for HTTP")
    _insert(engine, "pypi", "alpha", "2.0", "A library")  # only some versions have both
    _insert(engine, "npm", "beta", "1.0.0", "For the library of HTTP")
    _insert(engine, "npm", "beta", "2.0.0", "For the library of HTTP")
    _insert(engine, "pypi", "gamma", "0.1", "library FOR all")
    _insert(engine, "pypi", "library-z", "1", "library, for z")


def test_a_set_counted_while_versions_change_is_exact(engine: Engine) -> None:
    _catalogue(engine)
    count = word_sets.SetCount.start(_database(engine), "for library", "library", chunk=1)
    assert count is not None
    assert _counting(engine) == {"for library": True}
    assert count.step()  # "ab" counted, the rest not yet
    # Submissions, decisions, description changes and deletes on either side of the
    # names counted so far, and a name the count has not reached.
    _insert(engine, "pypi", "ab", "2", "for library, again")
    _insert(engine, "npm", "beta", "3.0.0", "library for later")
    _insert(engine, "pypi", "aardvark", "1", "a library for ants")
    _execute(engine, "UPDATE package_versions SET status = 'approved' WHERE name = 'ab'")
    _execute(engine, "UPDATE package_versions SET status = 'rejected' WHERE name = 'gamma'")
    assert count.step()
    assert count.step()  # "alpha" and "beta" counted
    _execute(engine, "UPDATE package_versions SET description = 'library' WHERE version = '1.0'")
    _execute(
        engine, "UPDATE package_versions SET description = 'for library' WHERE version = '2.0'"
    )
    _execute(engine, "DELETE FROM package_versions WHERE name = 'beta' AND version = '1.0.0'")
    _execute(engine, "DELETE FROM package_versions WHERE name = 'library-z'")
    # Searches meanwhile count the long way, exactly (a set being counted is not used).
    assert _search(engine, "library for")[0] == 7
    steps = 0
    while count.step():
        steps += 1
        _insert(engine, "pypi", "zeta", str(steps), "for library")  # after the last name
        _execute(engine, "UPDATE package_versions SET status = 'approved' WHERE name = 'zeta'")
    assert steps == 2  # "gamma", then "library-z" (deleted since, but in the snapshot)
    assert count.finish()
    count.close()
    assert _counting(engine) == {"for library": False}
    _assert_in_step(engine)
    # From the kept counts now.
    assert _search(engine, "library for") == (
        9,
        [
            ("aardvark", "1"),
            ("ab", "2"),
            ("ab", "1"),
            ("alpha", "2.0"),
            ("beta", "3.0.0"),
            ("beta", "2.0.0"),
            ("gamma", "0.1"),
            ("zeta", "2"),
            ("zeta", "1"),
        ],
    )
    assert _search(engine, "library for", status="approved") == (
        4,
        [("ab", "2"), ("ab", "1"), ("zeta", "2"), ("zeta", "1")],
    )
    assert _search(engine, "library for", ecosystem="npm", status="pending")[0] == 2


def test_writes_go_on_while_a_set_is_counted(engine: Engine) -> None:
    _catalogue(engine)
    count = word_sets.SetCount.start(_database(engine), "for library", "library", chunk=1)
    assert count is not None
    assert count.step()
    # A writer that would fail at once rather than wait for the write lock.
    writer = sqlite3.connect(_database(engine), timeout=0, isolation_level=None)
    search_index.register_sqlite_functions(writer)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(ROW, {"e": "pypi", "n": "delta", "v": "1", "d": "library for deltas"})
        writer.execute("UPDATE package_versions SET status = 'approved' WHERE name = 'alpha'")
        writer.execute("DELETE FROM package_versions WHERE name = 'gamma'")
        writer.execute("COMMIT")
    finally:
        writer.close()
    # The write is in, and the count still under way: its snapshot has names left.
    assert _counting(engine) == {"for library": True}
    assert _search(engine, "delta") == (1, [("delta", "1")])
    assert count.step()
    while count.step():
        pass
    assert count.finish()
    count.close()
    _assert_in_step(engine)
    assert _search(engine, "library for")[0] == 6


def test_a_second_count_of_a_set_takes_the_first_over(engine: Engine) -> None:
    _catalogue(engine)
    database = _database(engine)
    first = word_sets.SetCount.start(database, "for library", "library", chunk=1)
    assert first is not None
    assert first.step()
    _insert(engine, "pypi", "omega", "1", "for library")
    # A count left behind (another process's, or one that died) is started again.
    second = word_sets.SetCount.start(database, "for library", "library", chunk=2)
    assert second is not None
    _insert(engine, "pypi", "omega", "2", "for library")
    while first.step():
        pass
    assert not first.finish()  # its snapshot and changes are no longer the set's
    first.close()
    assert _counting(engine) == {"for library": True}
    while second.step():
        pass
    assert second.finish()
    second.close()
    _assert_in_step(engine)
    assert _search(engine, "library for")[0] == 8
    # A set kept already is not counted again.
    assert word_sets.SetCount.start(database, "for library", "library") is None


def _kept_names(engine: Engine, words: str) -> dict[tuple[str, str], list[int]]:
    stored, _real = _set_names(engine)
    return {(n, e): counts for (w, n, e), counts in stored.items() if w == words}


def _names_flags(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT words, names FROM package_word_sets")).all()
    return {words: names for words, names in rows}


def test_a_set_few_names_have_keeps_its_names_through_every_change(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two rarer words: the set keeps the names that have both, and pages from them."""
    monkeypatch.setattr(search_index, "KEPT_SETS_FROM", 1)
    _insert(engine, "pypi", "alpha", "1.0", "JSON over REST")
    _insert(engine, "pypi", "alpha", "2.0", "JSON only")  # one version of two has both
    _insert(engine, "npm", "beta", "1.0.0", "rest and json")
    _insert(engine, "pypi", "gamma", "1", "rest, no other word")
    _insert(engine, "pypi", "rest-json", "1", "json rest")  # its name has the term
    assert _search(engine, "rest-json") == (
        3,
        [("rest-json", "1"), ("alpha", "1.0"), ("beta", "1.0.0")],
    )
    word_sets.wait()
    assert _names_flags(engine) == {"json rest": 1}
    assert _kept_names(engine, "json rest") == {
        ("alpha", "pypi"): [1, 0, 0],
        ("beta", "npm"): [1, 0, 0],
        ("rest-json", "pypi"): [1, 0, 0],
    }
    _assert_in_step(engine)

    # A new name, a description that gains and one that loses a word, a decision, a
    # rename and a delete.
    _insert(engine, "pypi", "aardvark", "1", "the REST of JSON")
    _execute(engine, "UPDATE package_versions SET description = 'json rest' WHERE name = 'gamma'")
    _execute(
        engine,
        "UPDATE package_versions SET description = 'rest' WHERE name = 'alpha' AND version = '1.0'",
    )
    _execute(engine, "UPDATE package_versions SET status = 'approved' WHERE name = 'beta'")
    _execute(engine, "UPDATE package_versions SET normalized_name = 'zeta' WHERE name = 'gamma'")
    _insert(engine, "npm", "beta", "2.0.0", "json, rest")
    _execute(engine, "DELETE FROM package_versions WHERE name = 'aardvark'")
    _assert_in_step(engine)
    assert _kept_names(engine, "json rest") == {
        ("beta", "npm"): [1, 1, 0],
        ("rest-json", "pypi"): [1, 0, 0],
        ("zeta", "pypi"): [1, 0, 0],
    }
    # From the kept names now (renamed "gamma" sorts as "zeta").
    assert _search(engine, "rest json") == (
        4,
        [("beta", "2.0.0"), ("beta", "1.0.0"), ("rest-json", "1"), ("gamma", "1")],
    )
    assert _search(engine, "rest-json") == (
        4,
        [("rest-json", "1"), ("beta", "2.0.0"), ("beta", "1.0.0"), ("gamma", "1")],
    )
    assert _search(engine, "json rest", status="approved") == (1, [("beta", "1.0.0")])
    assert _search(engine, "json rest", ecosystem="pypi") == (
        2,
        [("rest-json", "1"), ("gamma", "1")],
    )
    assert _search(engine, "rest json", limit=2, offset=1) == (
        4,
        [("beta", "1.0.0"), ("rest-json", "1")],
    )


def test_a_set_many_names_have_keeps_only_its_counts(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names past the bound while counting: the names gathered so far, and the triggers', dropped."""
    monkeypatch.setattr(word_sets, "MAX_KEPT_NAMES", 2)
    _catalogue(engine)
    count = word_sets.SetCount.start(_database(engine), "for library", "library", chunk=1)
    assert count is not None
    assert count.step()
    _insert(engine, "pypi", "zeta", "1", "for library")  # kept by the triggers meanwhile
    assert _kept_names(engine, "for library") == {("zeta", "pypi"): [1, 0, 0]}
    while count.step():
        pass
    assert count.names is None
    assert count.finish()
    count.close()
    assert _names_flags(engine) == {"for library": 0}
    assert _kept_names(engine, "for library") == {}
    _insert(engine, "pypi", "omega", "1", "for library")
    assert _kept_names(engine, "for library") == {}
    _assert_in_step(engine)
    assert _search(engine, "library for", ecosystem="npm") == (
        2,
        [("beta", "2.0.0"), ("beta", "1.0.0")],
    )
