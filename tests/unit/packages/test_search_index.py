"""What the SQLite search indexes hold: description words and name suffixes with what came earlier."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from foss_registry.search_index import MIN_SUFFIX, has_words, name_suffixes, words


def test_words_are_runs_of_letters_and_digits_without_case_or_accents() -> None:
    assert words("JSON-REST client, für HTTP_2 (node.js); json again") == [
        "json",
        "rest",
        "client",
        "fur",
        "http",
        "2",
        "node",
        "js",
        "again",
    ]
    assert words("Ünïcödé ΑΒΓ 日本語") == ["unicode", "αβγ", "日本語"]
    assert words(None) == words("") == words("--- !!") == []


def test_a_text_has_words_only_when_it_has_every_one() -> None:
    assert has_words("A YAML and TOML parser", ["toml", "yaml"])
    assert not has_words("A YAML parser", ["toml", "yaml"])
    assert not has_words(None, ["toml"])
    # Whole words only: "parse" is not in "parser".
    assert not has_words("A YAML parser", ["parse"])


def test_each_suffix_knows_how_much_of_it_came_earlier() -> None:
    assert name_suffixes("kalokalo") == [
        ("kalokalo", -1),
        ("alokalo", 0),
        ("lokalo", 0),
        ("okalo", 0),
        ("kalo", 4),
        ("alo", 3),
    ]
    # Lower-cased like SQLite's lower(): ASCII letters only.
    assert name_suffixes("JSONÄ") == [("jsonÄ", -1), ("sonÄ", 0), ("onÄ", 0)]
    assert name_suffixes("ab") == []


names = st.text(alphabet="abc-", max_size=30)
terms = st.text(alphabet="abc-", min_size=MIN_SUFFIX, max_size=5)


@given(names, terms)
def test_a_name_holding_a_term_is_found_once_and_its_start_is_known(name: str, term: str) -> None:
    # Exactly one indexed suffix starts with the term and has less of it earlier:
    # the one at the term's first place in the name; -1 when that is the start.
    rows = [(s, e) for s, e in name_suffixes(name) if s.startswith(term) and e < len(term)]
    if term in name:
        first = name.index(term)
        assert rows == [(name[first:], -1 if first == 0 else rows[0][1])]
        assert (rows[0][1] == -1) == name.startswith(term)
    else:
        assert rows == []


@given(st.text(alphabet="ab", max_size=40))
def test_earlier_is_the_longest_prefix_seen_before(name: str) -> None:
    for start, (suffix, earlier) in enumerate(name_suffixes(name)):
        assert suffix == name[start:]
        assert len(suffix) >= MIN_SUFFIX
        longest = max(
            (
                k
                for before in range(start)
                for k in range(len(suffix) + 1)
                if name[before:].startswith(suffix[:k])
            ),
            default=0,
        )
        assert earlier == (-1 if start == 0 else longest)
