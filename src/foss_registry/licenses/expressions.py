"""SPDX license expressions: parsing, validation against SPDX 3.29, and normalisation.

Two entry points:

* :func:`parse_submitted` is strict, for the ``license`` a person submits: common
  spellings (``MIT License``, ``Apache 2.0``, ``GPLv3+``, trove classifiers) are
  mapped first, then the text must be a valid expression of known SPDX ids,
  ``LicenseRef-...`` ids and exceptions, else InvalidInputError
  (code ``invalid_license``) whose detail suggests the closest ids.
* :func:`normalize_declared` is lenient, for lockfiles, SBOMs and upstream
  metadata: what cannot be mapped is kept verbatim and marked unknown, never
  guessed.

The normalised form is the canonical spelling of every id, ``AND``/``OR`` in
upper case, nested groups in parentheses, and every deprecated id replaced by
its SPDX replacement (``GPL-3.0`` -> ``GPL-3.0-only``,
``GPL-2.0-with-classpath-exception`` -> ``GPL-2.0-only WITH
Classpath-exception-2.0``). The replacements are exact (SPDX defined the old ids
that way), so mapping them loses nothing and lets compatibility and policy work
with current ids. An id without a single replacement (``Net-SNMP``) is kept.
Strings that name a family (``BSD``, ``GPL``, ``LGPLv2``) are never mapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from license_expression import (
    ExpressionError,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    Licensing,
)

from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.licenses import _data
from foss_registry.licenses.catalog import all_licenses, find_license, suggest_ids

#: Longest text treated as an expression; longer "license" fields are license texts.
MAX_EXPRESSION_LENGTH = 1000

_LICENSE_REF = re.compile(
    r"^(?:DocumentRef-(?P<doc>[A-Za-z0-9.\-]+):)?LicenseRef-(?P<ref>[A-Za-z0-9.\-]+)$",
    re.IGNORECASE,
)
_SPLIT_OPERATORS = re.compile(r"\s+(AND|OR)\s+", re.IGNORECASE)
_LICENSE_SUFFIX = re.compile(r"[\s-]+licen[cs]e$", re.IGNORECASE)
#: SPDX document values that say "no license information", not a license.
_NOT_A_LICENSE = frozenset({"NONE", "NOASSERTION"})
#: Declared values that carry no license information (npm, PyPI, SBOM conventions).
_NO_INFORMATION = frozenset({"NONE", "NOASSERTION", "UNKNOWN", "UNLICENSED", "N/A"})


@dataclass(frozen=True)
class LicenseTerm:
    """One license of an expression: an id or LicenseRef, maybe ``+``, maybe ``WITH`` exception."""

    license_id: str
    exception_id: str | None = None
    #: The SPDX ``+`` operator ("this version or any later one").
    or_later: bool = False

    @property
    def license_key(self) -> str:
        """The license part without the exception (``GPL-2.0-or-later``, ``Apache-2.0+``)."""
        return f"{self.license_id}+" if self.or_later else self.license_id

    @property
    def is_license_ref(self) -> bool:
        """Whether this is a ``LicenseRef-`` (not an SPDX-listed license)."""
        return _LICENSE_REF.match(self.license_id) is not None

    def __str__(self) -> str:
        if self.exception_id:
            return f"{self.license_key} WITH {self.exception_id}"
        return self.license_key


@dataclass(frozen=True)
class LicenseAnd:
    """All of the terms apply (``A AND B``)."""

    terms: tuple[LicenseExpression, ...]

    def __str__(self) -> str:
        return render(self)


@dataclass(frozen=True)
class LicenseOr:
    """Any one of the terms may be chosen (``A OR B``)."""

    terms: tuple[LicenseExpression, ...]

    def __str__(self) -> str:
        return render(self)


LicenseExpression = LicenseTerm | LicenseAnd | LicenseOr


@dataclass(frozen=True)
class DeclaredLicense:
    """A license as declared upstream, normalised where that is certain."""

    #: The normalised SPDX expression, None when the declaration could not be mapped.
    expression: str | None
    #: The declaration exactly as received.
    verbatim: str
    #: True when ``expression`` is a valid expression of known ids.
    known: bool


def render(expr: LicenseExpression) -> str:
    """The canonical string of an expression; nested groups get parentheses."""
    if isinstance(expr, LicenseTerm):
        return str(expr)
    operator = " AND " if isinstance(expr, LicenseAnd) else " OR "
    parts = [render(t) if isinstance(t, LicenseTerm) else f"({render(t)})" for t in expr.terms]
    return operator.join(parts)


def license_terms(expr: LicenseExpression) -> tuple[LicenseTerm, ...]:
    """Every term of an expression, left to right."""
    if isinstance(expr, LicenseTerm):
        return (expr,)
    return tuple(term for child in expr.terms for term in license_terms(child))


@cache
def spdx_licensing() -> Licensing:
    """A Licensing that knows the SPDX 3.29 ids (the one bundled with license-expression stops
    at 3.27)."""
    symbols = [LicenseSymbol(lic.id, is_exception=lic.is_exception) for lic in all_licenses()]
    return Licensing(symbols)


def alias_key(text: str) -> str:
    """How a declared string is compared with the alias table: case-folded, spaces collapsed."""
    key = " ".join(text.split()).casefold().rstrip(".")
    return key.removeprefix("the ")


@cache
def _aliases() -> dict[str, str]:
    table: dict[str, str] = _data.load("aliases")["aliases"]
    return {alias_key(k): v for k, v in table.items()}


@cache
def _ambiguous() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = _data.load("aliases")["ambiguous"]
    return {alias_key(k): tuple(v) for k, v in table.items()}


def _candidate_keys(text: str) -> list[tuple[str, bool]]:
    """Alias keys to try, each with whether a bare SPDX id is acceptable under that key.

    The text itself, then without a trailing "License"; for a trove classifier
    ("License :: OSI Approved :: MIT License") the same for its last part. A
    bare id as the whole text is left to the expression parser.
    """
    parts = [(text, False)]
    if "::" in text:
        parts.append((text.rsplit("::", 1)[1], True))
    keys: list[tuple[str, bool]] = []
    for part, bare_ok in parts:
        key = alias_key(part)
        keys.append((key, bare_ok))
        stem = _LICENSE_SUFFIX.sub("", key)
        if stem and stem != key:
            keys.append((stem, True))
    return keys


def _alias_expression(text: str) -> LicenseExpression | None:
    """The expression a common spelling maps to, or None (never a guess: see aliases.toml)."""
    for key, bare_ok in _candidate_keys(text):
        if key in _ambiguous():
            return None
        if key in _aliases():
            return _trusted(_aliases()[key])
        if bare_ok:
            lic = find_license(key)
            if lic is not None and not lic.is_exception:
                return _normalise(LicenseTerm(lic.id))
    return None


def _ambiguous_options(text: str) -> tuple[str, ...] | None:
    for key, _ in _candidate_keys(text):
        if key in _ambiguous():
            return _ambiguous()[key]
    return None


@cache
def _trusted(expression: str) -> LicenseExpression:
    """Parse an expression from the packaged data; an error here is a bug in the data."""
    problems: list[str] = []
    expr = _convert(spdx_licensing().parse(expression, validate=False, strict=False), problems)
    if problems:
        raise ValueError(f"bad expression in license data {expression!r}: {problems}")
    return _normalise(expr)


def _unknown_id_message(key: str, *, exception: bool) -> str:
    what = "license exception" if exception else "license id"
    hint = suggest_ids(key, exceptions=exception)
    message = f"unknown {what} {key!r}"
    if hint:
        message += f" (did you mean {', '.join(hint)}?)"
    return message


def _resolve_license(key: str, problems: list[str]) -> LicenseExpression | None:
    """Turn one symbol of a parsed expression into a term (or an alias's expression)."""
    key = key.strip()
    lic = find_license(key)
    if lic is not None:
        if lic.is_exception:
            problems.append(
                f"{lic.id!r} is a license exception; it can only follow WITH "
                f"(for example 'GPL-2.0-or-later WITH {lic.id}')"
            )
            return None
        return LicenseTerm(lic.id)
    ref = _LICENSE_REF.match(key)
    if ref is not None:
        doc = f"DocumentRef-{ref['doc']}:" if ref["doc"] else ""
        return LicenseTerm(f"{doc}LicenseRef-{ref['ref']}")
    if key.endswith("+"):
        base = find_license(key[:-1].strip())
        if base is not None and not base.is_exception:
            return LicenseTerm(base.id, or_later=True)
    if key.upper() in _NOT_A_LICENSE:
        problems.append(f"{key!r} says that the license is not known; it is not a license")
        return None
    mapped = _alias_expression(key)
    if mapped is not None:
        return mapped
    options = _ambiguous_options(key)
    if options is not None:
        problems.append(f"{key!r} names several licenses; use one of {', '.join(options)}")
        return None
    if key.casefold().startswith(("licenseref-", "documentref-")):
        problems.append(
            f"{key!r} is not a valid LicenseRef: after 'LicenseRef-' only letters, digits, "
            "'.' and '-' are allowed"
        )
        return None
    problems.append(_unknown_id_message(key, exception=False))
    return None


def _resolve_exception(key: str, problems: list[str]) -> str | None:
    lic = find_license(key)
    if lic is not None and lic.is_exception:
        return lic.id
    if lic is not None:
        problems.append(f"{lic.id!r} is a license, not an exception; only exceptions follow WITH")
    else:
        problems.append(_unknown_id_message(key.strip(), exception=True))
    return None


def _convert(node: object, problems: list[str]) -> LicenseExpression:
    """license-expression's tree -> this module's tree, collecting every problem found."""
    licensing = spdx_licensing()
    if isinstance(node, LicenseWithExceptionSymbol):
        base = _resolve_license(node.license_symbol.key, problems)
        exception = _resolve_exception(node.exception_symbol.key, problems)
        if base is not None and not (isinstance(base, LicenseTerm) and not base.exception_id):
            problems.append(f"{node.license_symbol.key!r} cannot be combined WITH an exception")
        if isinstance(base, LicenseTerm) and exception is not None:
            return LicenseTerm(base.license_id, exception, base.or_later)
        return LicenseTerm(node.license_symbol.key)
    if isinstance(node, LicenseSymbol):
        resolved = _resolve_license(node.key, problems)
        return resolved if resolved is not None else LicenseTerm(node.key)
    if isinstance(node, (licensing.AND, licensing.OR)):
        children = tuple(_convert(arg, problems) for arg in node.args)
        return LicenseAnd(children) if isinstance(node, licensing.AND) else LicenseOr(children)
    raise TypeError(f"unexpected node in a parsed license expression: {node!r}")


def _replace_deprecated(term: LicenseTerm) -> LicenseExpression:
    exception = term.exception_id
    if exception is not None:
        exc = find_license(exception)
        if exc is not None and exc.replaced_by:
            exception = exc.replaced_by
    lic = find_license(term.license_id)
    if lic is None or not lic.replaced_by:
        return LicenseTerm(term.license_id, exception, term.or_later)
    replacement = _trusted(lic.replaced_by)
    if not isinstance(replacement, LicenseTerm):
        return LicenseTerm(term.license_id, exception, term.or_later)
    if replacement.exception_id is None:
        return LicenseTerm(replacement.license_id, exception, term.or_later)
    if exception is None and not term.or_later:
        return replacement
    # The replacement carries an exception already and SPDX allows only one.
    return LicenseTerm(term.license_id, exception, term.or_later)


def _normalise(expr: LicenseExpression) -> LicenseExpression:
    """Replace deprecated ids, turn ``X-only+`` into ``X-or-later``, flatten nested groups."""
    if isinstance(expr, LicenseTerm):
        replaced = _replace_deprecated(expr)
        if isinstance(replaced, LicenseTerm) and replaced.or_later:
            if replaced.license_id.endswith("-only"):
                later = find_license(replaced.license_id.removesuffix("-only") + "-or-later")
                if later is not None:
                    return LicenseTerm(later.id, replaced.exception_id)
            if replaced.license_id.endswith("-or-later"):
                return LicenseTerm(replaced.license_id, replaced.exception_id)
        return replaced
    kind = type(expr)
    flat: list[LicenseExpression] = []
    for child in expr.terms:
        normal = _normalise(child)
        if isinstance(normal, kind):
            flat.extend(normal.terms)
        else:
            flat.append(normal)
    return kind(tuple(flat))


def _split_fallback(text: str) -> LicenseExpression | None:
    """``MIT License OR Apache 2.0``: operands that are common spellings, joined by AND/OR.

    Only for texts without parentheses, and only when every operand maps; AND
    binds tighter than OR as in SPDX.
    """
    if "(" in text or ")" in text:
        return None
    pieces = _SPLIT_OPERATORS.split(text)
    if len(pieces) < 3:
        return None
    operands = pieces[0::2]
    operators = [p.upper() for p in pieces[1::2]]
    resolved: list[LicenseExpression] = []
    for operand in operands:
        problems: list[str] = []
        expr = _resolve_license(operand, problems)
        if expr is None or problems:
            return None
        resolved.append(expr)
    groups: list[list[LicenseExpression]] = [[resolved[0]]]
    for operator, expr in zip(operators, resolved[1:], strict=True):
        if operator == "AND":
            groups[-1].append(expr)
        else:
            groups.append([expr])
    alternatives = [g[0] if len(g) == 1 else LicenseAnd(tuple(g)) for g in groups]
    combined = alternatives[0] if len(alternatives) == 1 else LicenseOr(tuple(alternatives))
    return _normalise(combined)


def _invalid(field: str, text: str, problems: list[str]) -> InvalidInputError:
    message = "; ".join(problems)
    detail = (
        f"The license {text!r} is not valid: {message}. Use an SPDX license expression "
        "of ids from https://spdx.org/licenses/ (or LicenseRef-<name> for other licenses)."
    )
    return InvalidInputError(detail, code="invalid_license", errors=[FieldError(field, message)])


def parse_expression(text: str, *, field: str = "license") -> LicenseExpression:
    """Parse, validate and normalise a license expression (strict; common spellings mapped).

    Raises InvalidInputError (code ``invalid_license``, the FieldError on ``field``)
    for empty text, a syntax error, an unknown or ambiguous id, an exception used
    as a license, or a license used as an exception.
    """
    if not isinstance(text, str) or not text.strip():
        raise _invalid(field, str(text or ""), ["a license expression must not be empty"])
    stripped = text.strip()
    if len(stripped) > MAX_EXPRESSION_LENGTH or "\n" in stripped:
        raise _invalid(
            field, stripped[:60] + "...", ["this looks like a license text, not an expression"]
        )
    mapped = _alias_expression(stripped)
    if mapped is not None:
        return mapped
    options = _ambiguous_options(stripped)
    if options is not None:
        raise _invalid(
            field,
            stripped,
            [f"{stripped!r} names several licenses; use one of {', '.join(options)}"],
        )
    try:
        parsed = spdx_licensing().parse(stripped, validate=False, strict=False)
    except Exception as exc:
        # license-expression reports some malformed input ("( )", "( OR MIT") with
        # IndexError or AssertionError instead of ExpressionError; all of them are
        # the user's syntax error, never a reason for a 500.
        fallback = _split_fallback(stripped)
        if fallback is not None:
            return fallback
        why = str(exc) if isinstance(exc, ExpressionError) else "misplaced parenthesis or operator"
        raise _invalid(field, stripped, [f"not a valid SPDX expression ({why})"]) from None
    if parsed is None:
        raise _invalid(field, stripped, ["a license expression must not be empty"])
    problems: list[str] = []
    expr = _convert(parsed, problems)
    if problems:
        raise _invalid(field, stripped, problems)
    return _normalise(expr)


def parse_submitted(text: str, *, field: str = "license") -> str:
    """The normalised expression for a submitted license (strict), e.g. ``MIT OR Apache-2.0``."""
    return render(parse_expression(text, field=field))


def parse_term(text: str, *, field: str = "license") -> LicenseTerm:
    """A single license (``X``, ``X+``, ``X WITH E``, ``LicenseRef-...``), normalised.

    Raises InvalidInputError when the text is not valid or combines licenses.
    """
    expr = parse_expression(text, field=field)
    if not isinstance(expr, LicenseTerm):
        raise _invalid(field, text.strip(), ["a single license is needed here, not AND/OR"])
    return expr


def normalize_declared(text: str | None) -> DeclaredLicense:
    """Normalise a declared license where certain; otherwise keep it verbatim as unknown.

    Never guesses: a family name (``BSD``), free text or a license text gives
    ``DeclaredLicense(expression=None, verbatim=text, known=False)``.
    """
    if text is None:
        return DeclaredLicense(expression=None, verbatim="", known=False)
    stripped = text.strip()
    if not stripped or stripped.upper() in _NO_INFORMATION:
        return DeclaredLicense(expression=None, verbatim=text, known=False)
    try:
        expr = parse_expression(stripped)
    except InvalidInputError:
        return DeclaredLicense(expression=None, verbatim=text, known=False)
    return DeclaredLicense(expression=render(expr), verbatim=text, known=True)
