"""What a text field may hold: no control characters, no bidirectional overrides.

A value is stored exactly as it was sent or refused; it is never trimmed of
what it should not contain. One-line fields (names, versions, ecosystems,
URLs, licenses) refuse every control character (C0, DEL, C1), the Unicode line
and paragraph separators, and the bidirectional embedding, override and
isolate characters that make text display in another order than it is stored
("Trojan Source"). Free text (descriptions, justifications, comments) may also
hold tab, line feed and carriage return.
"""

from __future__ import annotations

import unicodedata

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_SEPARATORS = frozenset("\u2028\u2029")
_LINE_BREAKS = frozenset("\t\n\r")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored in a field, or None when it can."""
    if value.isascii() and value.isprintable():
        return None
    for position, char in enumerate(value):
        if multiline and char in _LINE_BREAKS:
            continue
        if (
            unicodedata.category(char) in ("Cc", "Cs")
            or char in _BIDI_CONTROLS
            or (not multiline and char in _LINE_SEPARATORS)
        ):
            return (
                f"must not contain the control character U+{ord(char):04X} (at position {position})"
            )
    return None
