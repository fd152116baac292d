"""The words of a package description, the one definition used to index and to search them.

A word is a run of letters and digits (any script), lower-cased, with
diacritics removed: ``"JSON-REST client, für HTTP_2"`` has the words ``json``,
``rest``, ``client``, ``fur``, ``http`` and ``2``. A description matches a
search when it has every word of the search term.

On SQLite the description index (``package_description_words``, migration
0004) is kept in step by triggers that call :func:`description_words` as the
SQL function ``foss_description_words``; every connection that writes package
versions registers it with :func:`register_sqlite_functions` (the engine does
so on connect). A connection without it cannot insert or delete package
versions: the index cannot fall out of step unnoticed. Changing what a word
is means a new migration that rebuilds the index.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+")
#: The SQL names of the functions :func:`register_sqlite_functions` adds.
WORDS_FUNCTION = "foss_description_words"
HAS_WORDS_FUNCTION = "foss_has_words"


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


@lru_cache(maxsize=4096)
def _words_json(text: str) -> str:
    return json.dumps(words(text))


def description_words(text: str | None) -> str:
    """The words of a description as a JSON array (the SQL function's answer)."""
    return _words_json(text) if text else "[]"


def _has_words_sql(text: str | None, wanted: str) -> int:
    return int(has_words(text, wanted.split(" ")))


def register_sqlite_functions(raw: sqlite3.Connection) -> None:
    """Add the SQL functions the description index and its searches call."""
    raw.create_function(WORDS_FUNCTION, 1, description_words, deterministic=True)
    raw.create_function(HAS_WORDS_FUNCTION, 2, _has_words_sql, deterministic=True)
