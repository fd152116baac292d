"""The license policy and the automatic decision on a submitted package version.

A :class:`LicensePolicy` gives each license category, and optionally single
licenses, a status: ``approved`` (the policy may approve it), ``restricted``
(a reviewer decides) or ``rejected``. A rule for a single license (an SPDX id,
``X+``, ``X WITH E`` or a ``LicenseRef-``) overrides its category's rule; for
``X WITH E`` a rule for the full term is looked up first, then one for ``X``.

:func:`evaluate_license` applies a policy to an expression: for OR the most
permissive option counts (approved > restricted > rejected), for AND the
strictest term. A version without a license is ``restricted`` with the reason
"no license declared" and ``declared=False``, so it stays pending for a person.

:func:`decide` combines that with the scan, following DESIGN "Policy and
people": a malicious finding rejects whatever the license; a rejected license
rejects; with ``auto_approve`` on, an approved license and a ``passed`` scan
approve; anything else stays pending with the reasons why.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.licenses.catalog import find_license
from foss_registry.licenses.categories import Category, category_of, category_reason
from foss_registry.licenses.expressions import (
    LicenseAnd,
    LicenseExpression,
    LicenseOr,
    LicenseTerm,
    parse_expression,
    parse_term,
    render,
)
from foss_registry.signals.rules import Signal

#: The reason DESIGN names for a version submitted without a license.
NO_LICENSE_REASON = "no license declared"


class Status(StrEnum):
    """What the policy says about a license."""

    APPROVED = "approved"
    RESTRICTED = "restricted"
    REJECTED = "rejected"

    @property
    def rank(self) -> int:
        """Higher is stricter: approved 0, restricted 1, rejected 2."""
        return {Status.APPROVED: 0, Status.RESTRICTED: 1, Status.REJECTED: 2}[self]

    @property
    def verb(self) -> str:
        """How the status reads in a sentence ("which the policy ...")."""
        return {
            Status.APPROVED: "approves",
            Status.RESTRICTED: "restricts (a reviewer decides)",
            Status.REJECTED: "rejects",
        }[self]


_DEFAULT_CATEGORY_STATUS: Mapping[Category, Status] = MappingProxyType(
    {
        Category.PERMISSIVE: Status.APPROVED,
        Category.PUBLIC_DOMAIN: Status.APPROVED,
        Category.WEAK_COPYLEFT: Status.RESTRICTED,
        Category.STRONG_COPYLEFT: Status.RESTRICTED,
        Category.NETWORK_COPYLEFT: Status.REJECTED,
        Category.SOURCE_AVAILABLE: Status.REJECTED,
        Category.PROPRIETARY: Status.REJECTED,
        Category.UNKNOWN: Status.REJECTED,
    }
)


@dataclass(frozen=True)
class LicensePolicy:
    """Status per license category and per single license; build it with :meth:`from_dict`.

    ``categories`` always has all eight categories; ``licenses`` is keyed by the
    normalised term (``GPL-2.0-only WITH Classpath-exception-2.0``).
    """

    categories: Mapping[Category, Status]
    licenses: Mapping[str, Status] = field(default_factory=lambda: MappingProxyType({}))
    _folded: Mapping[str, Status] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        missing = [c.value for c in Category if c not in self.categories]
        if missing:
            raise ValueError(f"a policy needs a status for every category; missing {missing}")
        # Frozen: the read-only views keep callers from editing a shared policy.
        object.__setattr__(self, "categories", MappingProxyType(dict(self.categories)))
        object.__setattr__(self, "licenses", MappingProxyType(dict(self.licenses)))
        folded = {key.casefold(): status for key, status in self.licenses.items()}
        object.__setattr__(self, "_folded", MappingProxyType(folded))

    def rule_for(self, term_key: str) -> Status | None:
        """The status of a single-license rule for this term (case-insensitive), if any."""
        return self._folded.get(term_key.casefold())

    def to_dict(self) -> dict[str, dict[str, str]]:
        """Plain data (``{"categories": {...}, "licenses": {...}}``) for an API or a file."""
        return {
            "categories": {c.value: self.categories[c].value for c in Category},
            "licenses": {key: status.value for key, status in sorted(self.licenses.items())},
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "policy") -> LicensePolicy:
        """Validate plain data into a policy; categories left out keep the default status.

        Raises InvalidInputError (code ``invalid_policy``) listing every problem:
        unknown keys or categories, bad statuses, unknown or invalid licenses.
        """
        errors: list[FieldError] = []
        if not isinstance(data, Mapping):
            raise _policy_error(source, [FieldError("policy", "must be a table/mapping")])
        for key in data:
            if key not in ("categories", "licenses"):
                errors.append(
                    FieldError(str(key), "unknown key; expected 'categories' and 'licenses'")
                )
        categories = dict(_DEFAULT_CATEGORY_STATUS)
        for key, value in _section(data, "categories", errors).items():
            name = str(key).strip().lower()
            try:
                category = Category(name)
            except ValueError:
                allowed = ", ".join(c.value for c in Category)
                errors.append(
                    FieldError(f"categories.{key}", f"unknown category; expected one of {allowed}")
                )
                continue
            status = _status(value, f"categories.{key}", errors)
            if status is not None:
                categories[category] = status
        licenses: dict[str, Status] = {}
        origin: dict[str, str] = {}
        for key, value in _section(data, "licenses", errors).items():
            where = f"licenses.{key}"
            status = _status(value, where, errors)
            try:
                term = str(parse_term(str(key), field=where))
            except InvalidInputError as exc:
                errors.extend(exc.errors)
                continue
            if status is None:
                continue
            if term in licenses and licenses[term] is not status:
                errors.append(
                    FieldError(
                        where, f"names the same license as {origin[term]!r} with another status"
                    )
                )
                continue
            licenses[term] = status
            origin[term] = str(key)
        if errors:
            raise _policy_error(source, errors)
        return cls(categories=categories, licenses=licenses)


def _section(data: Mapping[str, Any], name: str, errors: list[FieldError]) -> Mapping[Any, Any]:
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.append(FieldError(name, "must be a table/mapping of name = status"))
        return {}
    return value


def _status(value: Any, where: str, errors: list[FieldError]) -> Status | None:
    if isinstance(value, str) and value.strip().lower() in {s.value for s in Status}:
        return Status(value.strip().lower())
    allowed = ", ".join(s.value for s in Status)
    errors.append(FieldError(where, f"bad status {value!r}; expected one of {allowed}"))
    return None


def _policy_error(source: str, errors: list[FieldError]) -> InvalidInputError:
    listing = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return InvalidInputError(
        f"The license policy in {source} is invalid: {listing}.",
        code="invalid_policy",
        errors=errors,
    )


def load_policy(path: str | Path) -> LicensePolicy:
    """Read a policy file, TOML (``.toml``) or YAML (``.yaml``/``.yml``) by its extension.

    Raises InvalidInputError (code ``invalid_policy``) for an unreadable file,
    another extension, a syntax error or invalid content.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise _policy_error(
            str(path), [FieldError("path", "the file must end in .toml, .yaml or .yml")]
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _policy_error(str(path), [FieldError("path", f"cannot be read ({exc})")]) from None
    return parse_policy(text, "toml" if suffix == ".toml" else "yaml", source=str(path))


def parse_policy(text: str, fmt: str, *, source: str = "policy") -> LicensePolicy:
    """Parse policy text in ``fmt`` ``toml`` or ``yaml``; errors as in :func:`load_policy`."""
    try:
        if fmt == "toml":
            data: Any = tomllib.loads(text)
        elif fmt == "yaml":
            data = yaml.safe_load(text)
            data = {} if data is None else data
        else:
            raise ValueError(f"unknown policy format {fmt!r}")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        message = " ".join(str(exc).split())
        error = FieldError("syntax", f"not valid {fmt.upper()}: {message}")
        raise _policy_error(source, [error]) from None
    return LicensePolicy.from_dict(data, source=source)


@cache
def default_policy() -> LicensePolicy:
    """The packaged default policy (``policy/default_policy.toml``)."""
    text = (
        resources.files("foss_registry.policy")
        .joinpath("default_policy.toml")
        .read_text(encoding="utf-8")
    )
    return parse_policy(text, "toml", source="default_policy.toml")


@dataclass(frozen=True)
class TermEvaluation:
    """The policy's view of one license term of an expression."""

    term: str
    category: Category
    status: Status
    reason: str


@dataclass(frozen=True)
class LicenseEvaluation:
    """The policy's verdict on a package's license expression."""

    status: Status
    reasons: tuple[str, ...]
    #: The normalised expression evaluated; None when none was declared or it was invalid.
    expression: str | None = None
    #: False when the version declares no license (status is then ``restricted``).
    declared: bool = True
    #: Every term, left to right.
    terms: tuple[TermEvaluation, ...] = ()
    #: The terms that produced ``status`` (the chosen OR option, the strictest AND terms).
    decisive_terms: tuple[TermEvaluation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for an API response."""
        return {
            "status": self.status.value,
            "reasons": list(self.reasons),
            "expression": self.expression,
            "declared": self.declared,
        }


def _evaluate_term(policy: LicensePolicy, term: LicenseTerm) -> TermEvaluation:
    key = str(term)
    category = category_of(term.license_key)
    candidates = [key]
    if term.exception_id:
        candidates.append(term.license_key)
    if term.or_later:
        candidates.append(term.license_id)
    for candidate in candidates:
        status = policy.rule_for(candidate)
        if status is not None:
            reason = f"{key}: the policy's rule for {candidate} says {status.value}"
            return TermEvaluation(key, category, status, reason)
    status = policy.categories[category]
    if term.is_license_ref and category is Category.UNKNOWN:
        why = f"{term.license_id} is not an SPDX-listed license, so its category is unknown"
    else:
        why = category_reason(term.license_key)
        if key != term.license_id:
            why = f"{key} counts as {term.license_id}: {why}"
    return TermEvaluation(
        key, category, status, f"{why}; the policy {status.verb} {category.label} licenses"
    )


def _evaluate(
    policy: LicensePolicy, expr: LicenseExpression, reasons: list[str]
) -> tuple[Status, tuple[TermEvaluation, ...]]:
    if isinstance(expr, LicenseTerm):
        evaluation = _evaluate_term(policy, expr)
        reasons.append(evaluation.reason)
        return evaluation.status, (evaluation,)
    results = [(child, *_evaluate(policy, child, reasons)) for child in expr.terms]
    if isinstance(expr, LicenseOr):
        best_child, best, decisive = min(results, key=lambda r: r[1].rank)
        if best is Status.REJECTED:
            decisive = tuple(t for _, _, ts in results for t in ts)
        reasons.append(
            f"{render(expr)} lets the user choose; the most permissive option "
            f"{render(best_child)} is {best.value}"
        )
        return best, decisive
    assert isinstance(expr, LicenseAnd)
    worst = max((status for _, status, _ in results), key=lambda s: s.rank)
    decisive = tuple(t for _, status, ts in results if status is worst for t in ts)
    strictest = ", ".join(render(child) for child, status, _ in results if status is worst)
    reasons.append(f"{render(expr)} needs every term; the strictest, {strictest}, is {worst.value}")
    return worst, decisive


def evaluate_license(policy: LicensePolicy, expression: str | None) -> LicenseEvaluation:
    """Apply the policy to a license expression (normalised first; common spellings mapped).

    None or blank: ``restricted``, ``declared=False``, reason "no license
    declared". Text that is not a valid expression (a verbatim declaration from
    a lockfile) counts as category ``unknown``; this function never raises for it.
    """
    if expression is None or not expression.strip():
        return LicenseEvaluation(Status.RESTRICTED, (NO_LICENSE_REASON,), declared=False)
    try:
        expr = parse_expression(expression)
    except InvalidInputError as exc:
        status = policy.categories[Category.UNKNOWN]
        message = exc.errors[0].message if exc.errors else exc.detail
        reason = (
            f"{expression.strip()!r} is not a valid SPDX license expression ({message}), so it "
            f"counts as an unknown license; the policy {status.verb} unknown licenses"
        )
        term = TermEvaluation(expression.strip(), Category.UNKNOWN, status, reason)
        return LicenseEvaluation(status, (reason,), None, True, (term,), (term,))
    reasons: list[str] = []
    status, decisive = _evaluate(policy, expr, reasons)
    terms = tuple(_evaluate_term(policy, t) for t in _leaves(expr))
    return LicenseEvaluation(status, tuple(reasons), render(expr), True, terms, decisive)


def _leaves(expr: LicenseExpression) -> tuple[LicenseTerm, ...]:
    if isinstance(expr, LicenseTerm):
        return (expr,)
    return tuple(t for child in expr.terms for t in _leaves(child))


def license_status(policy: LicensePolicy, license_id: str) -> Status:
    """The policy status of one catalog id (for ``GET /licenses``); unknown ids use the
    ``unknown`` category. Deprecated ids are judged by their replacement."""
    lic = find_license(license_id)
    key = lic.id if lic is not None else license_id
    if lic is not None and lic.is_exception:
        return policy.rule_for(key) or policy.categories[lic.category]
    direct = policy.rule_for(key)
    if direct is not None:
        return direct
    return evaluate_license(policy, key).status


class ScanStatus(StrEnum):
    """Status of the latest vulnerability/malware scan of a version."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    NOT_SCANNED = "not_scanned"
    PENDING = "pending"


@dataclass(frozen=True)
class ScanSummary:
    """What the policy needs to know about a scan."""

    status: ScanStatus
    #: Ids of findings that mark the release as malicious (e.g. OSV ``MAL-`` records).
    malicious_ids: tuple[str, ...] = ()
    #: Highest severity found (``critical``, ``high``, ..., ``unknown``), None if none.
    worst_severity: str | None = None

    def __post_init__(self) -> None:
        # Accept plain strings and lists from callers; store the typed, immutable forms.
        object.__setattr__(self, "status", ScanStatus(self.status))
        object.__setattr__(self, "malicious_ids", tuple(self.malicious_ids))


class Decision(StrEnum):
    """An automatic decision; the same words as a reviewer's."""

    APPROVE = "approve"
    REJECT = "reject"


#: Flag added when a malicious finding concerns a version a person already decided.
FLAG_MALICIOUS = "malicious"
#: Flag added when the license policy rejects a version a person already decided.
FLAG_LICENSE_REJECTED = "license_rejected"


@dataclass(frozen=True)
class PolicyDecision:
    """The policy's decision: approve, reject, or None (stays pending), and why."""

    decision: Decision | None
    reasons: tuple[str, ...]
    #: Flags to add to the version (only for versions a person has decided).
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for an API response."""
        return {
            "decision": self.decision.value if self.decision else None,
            "reasons": list(self.reasons),
            "flags": list(self.flags),
        }


def _scan_reason(scan: ScanSummary) -> str:
    if scan.status is ScanStatus.FAILED:
        severity = f" (worst severity: {scan.worst_severity})" if scan.worst_severity else ""
        return f"the scan failed{severity}; a reviewer decides"
    if scan.status is ScanStatus.ERROR:
        return "the scan ended in an error; a reviewer decides"
    if scan.status is ScanStatus.PENDING:
        return "the scan has not finished yet"
    return "the version has not been scanned"


def _enrichment_reason(status: str, reason: str | None) -> str | None:
    if status == "pending":
        return "the upstream registry's facts are not in yet; auto-approve waits for them"
    if status == "unavailable":
        why = f" ({reason})" if reason else ""
        return f"the upstream registry could not be asked{why}; auto-approve waits for it"
    return None


def decide(
    license_eval: LicenseEvaluation,
    scan: ScanSummary,
    auto_approve: bool,
    *,
    decided_by_person: bool = False,
    signals: Sequence[Signal] = (),
    enrichment: str = "not_configured",
    enrichment_reason: str | None = None,
) -> PolicyDecision:
    """The automatic decision for a version.

    In order: a malicious finding rejects (naming the finding ids), whatever the
    license; a rejected license rejects (naming the terms); with
    ``auto_approve`` on, a declared approved license and a ``passed`` scan
    approve; otherwise the version stays pending (decision None) with every
    reason. ``auto_approve`` never acts on a scan that is not ``passed``. When a
    person has already decided (``decided_by_person``), the policy decides
    nothing and only returns flags for what it would have rejected.

    Signals act by their level: ``block`` rejects like a malicious finding,
    ``review`` keeps the version pending with the signal's message.
    ``auto_approve`` never acts while the enrichment (its status in
    ``enrichment``) is ``pending`` or ``unavailable``.
    """
    blocking = tuple(f"{s.code}: {s.message}" for s in signals if s.level == "block")
    if scan.malicious_ids:
        reason = f"malicious release: {', '.join(scan.malicious_ids)}"
        if decided_by_person:
            return PolicyDecision(None, (reason,), (FLAG_MALICIOUS,))
        return PolicyDecision(Decision.REJECT, (reason,), (FLAG_MALICIOUS,))
    if blocking and not decided_by_person:
        return PolicyDecision(Decision.REJECT, blocking)
    if license_eval.status is Status.REJECTED:
        decisive = license_eval.decisive_terms or license_eval.terms
        names = ", ".join(t.term for t in decisive) or (license_eval.expression or "")
        reasons = (
            f"license rejected by policy: {names}",
            *(t.reason for t in decisive),
        )
        if decided_by_person:
            return PolicyDecision(None, reasons, (FLAG_LICENSE_REJECTED,))
        return PolicyDecision(Decision.REJECT, reasons, (FLAG_LICENSE_REJECTED,))
    if decided_by_person:
        return PolicyDecision(None, ("a person has decided; the policy only adds flags",))
    pending: list[str] = []
    if not license_eval.declared:
        pending.append(NO_LICENSE_REASON)
    elif license_eval.status is Status.RESTRICTED:
        names = ", ".join(t.term for t in license_eval.decisive_terms)
        pending.append(f"the license needs a reviewer ({names}: restricted by policy)")
    if scan.status is not ScanStatus.PASSED:
        pending.append(_scan_reason(scan))
    pending.extend(f"{s.code}: {s.message}" for s in signals if s.level == "review")
    waiting = _enrichment_reason(enrichment, enrichment_reason)
    if waiting is not None:
        pending.append(waiting)
    if not auto_approve:
        pending.append("auto-approve is off; a reviewer decides")
    if pending:
        return PolicyDecision(None, tuple(pending))
    return PolicyDecision(
        Decision.APPROVE,
        (
            f"license {license_eval.expression} is approved by policy",
            "the scan passed",
        ),
    )
