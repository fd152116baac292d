"""The search rules, in one place: what ``GET /packages?search=`` matches and in what order.

Every search on either backend follows these rules; ``packages/search.py``
and ``packages/search_postgres.py``
make the indexes answer them fast, the SQLite indexes are kept by the triggers
of migrations 0003 to 0005 and 0016 to 0018 (calling the functions below),
PostgreSQL's by the trigger of migration 0019 (its words are stored by
``foss_search_text``, migration 0006, which makes them as :func:`words` does
here). Changing a rule means changing it here, and a new migration where an
index holds what the rule says.

**The term** is the search text without surrounding blanks, lower-cased
(:func:`search_term`).

**Short terms.** A term shorter than :data:`MIN_SUFFIX` characters matches the
names that start with it, and nothing else (trigram indexes need three
characters; ``js`` finds ``json`` and npm's ``JSONStream``).

**Longer terms** match a version when its normalised name contains the term, or
when its description has every word of the term (:func:`has_words`). Names are
compared lower-cased as SQLite's ``lower()`` does (ASCII letters only,
:func:`ascii_lower`).

**Words.** A word is a run of letters and digits (any script), lower-cased,
with diacritics removed: ``"JSON-REST client, für HTTP_2"`` has the words
``json``, ``rest``, ``client``, ``fur``, ``http`` and ``2`` (:func:`words`).

**Order.** The name that is the term first, then names starting with it, then
the rest; ties by normalised name (byte order), ecosystem, and version, highest
first (newest submission first among equal versions). ``total`` counts every
match, exactly; ``ecosystem`` and ``status`` filters restrict the matches.

**The SQLite indexes** hold, besides the words of each description:

*Suffixes.* A name contains a term when one of its suffixes starts with the
term. Each suffix of three characters or more is indexed with ``earlier``: how
long a prefix of it already appeared earlier in the name, and -1 for the whole
name. A name containing the term twice is then counted once, through the
suffix at the term's first place in the name, the one whose ``earlier`` is
shorter than the term; and the name starts with the term when that suffix's
``earlier`` is -1.

*Counts.* Versions per name (and status), per word, per name prefix of one or two
characters (by ecosystem and status), and per kept word set (the words of a
search of several common words, :data:`KEPT_SETS_FROM`), so that ``total`` is
exact without visiting each match.

The indexes (``package_description_words`` and ``package_name_suffixes``,
migrations 0003 and 0004) are kept in step by triggers that call
:func:`description_words` and :func:`name_suffixes` as SQL functions; every
connection the registry opens registers them with
:func:`register_sqlite_functions` (the engine does so on connect). A
connection without them cannot insert or delete package versions, so the
indexes cannot fall out of step unnoticed. Changing what a word or a suffix is
means a new migration that rebuilds the index.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import string
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
#: Suffixes shorter than this are not indexed: shorter terms match names by prefix only.
MIN_SUFFIX = 3
#: A search of several words whose rarest word is in this many descriptions or more
#: keeps the counts of its word set (``packages/word_sets.py``).
KEPT_SETS_FROM = 2000
#: The SQL names of the functions :func:`register_sqlite_functions` adds.
WORDS_FUNCTION = "foss_description_words"
SUFFIXES_FUNCTION = "foss_name_suffixes"
HAS_WORDS_FUNCTION = "foss_has_words"


def search_term(search: str | None) -> str:
    """The term a search text stands for: without surrounding blanks, lower-cased."""
    return (search or "").strip().lower()


def words(text: str | None) -> list[str]:
    """The distinct words of a text, in order of first appearance."""
    if not text:
        return []
    text = text.lower()
    if not text.isascii():
        decomposed = unicodedata.normalize("NFD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return list(dict.fromkeys(_WORD.findall(text)))


def has_words(text: str | None, wanted: list[str]) -> bool:
    """True when the text has every one of the wanted words."""
    present = _word_set(text) if text else frozenset()
    return all(w in present for w in wanted)


# Versions of one package mostly share their description: tokenise each once.
@lru_cache(maxsize=8192)
def _word_set(text: str) -> frozenset[str]:
    return frozenset(words(text))


def ascii_lower(name: str) -> str:
    """A name lower-cased as SQLite's ``lower()`` does it (ASCII letters only)."""
    return name.lower() if name.isascii() else name.translate(_ASCII_LOWER)


def spellings(term: str) -> list[str]:
    """Every way of writing a short term's ASCII letters in either case."""
    cases = [(c, c.upper()) if c.isascii() and c.isalpha() else (c,) for c in term]
    return ["".join(chosen) for chosen in itertools.product(*cases)]


def name_suffixes(name: str) -> list[tuple[str, int]]:
    """Each indexed suffix of a name with the length of its prefix seen earlier in the name.

    ``name_suffixes("kalokalo")`` gives ``("kalokalo", -1)`` (the whole name),
    ``("alokalo", 0)``, ``("lokalo", 0)``, ``("okalo", 0)``, ``("kalo", 4)``
    (``kalo`` began the name) and ``("alo", 3)``.
    """
    lowered = ascii_lower(name)
    count = len(lowered) - MIN_SUFFIX + 1
    if count <= 0:
        return []
    earlier = [-1] + [0] * (count - 1)
    for start in range(count - 1):
        # How far each later suffix agrees with the one at ``start``.
        for offset, agreed in enumerate(_prefix_matches(lowered[start:]), start + 1):
            if offset < count and agreed > earlier[offset]:
                earlier[offset] = agreed
    return [(lowered[start:], earlier[start]) for start in range(count)]


def _prefix_matches(text: str) -> list[int]:
    """Z-function: for each later position, how many characters there match the text's start."""
    n = len(text)
    z = [0] * n
    left = right = 0
    for i in range(1, n):
        if i < right:
            z[i] = min(right - i, z[i - left])
        while i + z[i] < n and text[z[i]] == text[i + z[i]]:
            z[i] += 1
        if i + z[i] > right:
            left, right = i, i + z[i]
    return z[1:]


@lru_cache(maxsize=4096)
def _words_json(text: str) -> str:
    return json.dumps(words(text))


def description_words(text: str | None) -> str:
    """The words of a description as a JSON array (the SQL function's answer)."""
    return _words_json(text) if text else "[]"


def _suffixes_json(name: str | None) -> str:
    return json.dumps(name_suffixes(name)) if name else "[]"


def _has_words_sql(text: str | None, wanted: str) -> int:
    return int(has_words(text, wanted.split(" ")))


def register_sqlite_functions(raw: sqlite3.Connection) -> None:
    """Add the SQL functions the search indexes and their searches call."""
    raw.create_function(WORDS_FUNCTION, 1, description_words, deterministic=True)
    raw.create_function(SUFFIXES_FUNCTION, 1, _suffixes_json, deterministic=True)
    raw.create_function(HAS_WORDS_FUNCTION, 2, _has_words_sql, deterministic=True)
