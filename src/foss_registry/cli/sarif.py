"""The gate's report as SARIF 2.1.0, for code-scanning dashboards (pure).

Each result points at the dependency's line in its file where the format has
lines (requirements files, ``yarn.lock``, ``pom.xml``, ``package-lock.json``),
so a dashboard annotates the line. Every advisory found in a checked version
is a rule of its own (its id, aliases, severity as ``security-severity``, a
help URI), so dashboards group results by advisory; the verdicts that are not
about an advisory (``rejected``, ``unknown``, ``unpinned``, ``pending``, and
``vulnerable`` for a flag) are rules ``foss/<verdict>``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from foss_registry.gate import (
    GateOptions,
    blocking_flags,
    is_failure,
    reaches_severity,
    unacknowledged,
)

__all__ = ["SARIF_SCHEMA", "advisory_uri", "describe", "sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: ``security-severity`` of each level, in the bands code-scanning dashboards use
#: (critical above 9.0, high 7.0 to 8.9, medium 4.0 to 6.9, low below 4.0).
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}

_VERDICT_RULES = {
    "rejected": ("The registry rejected this version.", "Use the nearest approved version."),
    "unknown": (
        "This version is not in the registry.",
        "Submit it for review (`foss check --submit-missing`) or use the nearest approved one.",
    ),
    "unpinned": (
        "The dependency has no pinned version, so it cannot be checked.",
        "Pin it to an approved version.",
    ),
    "vulnerable": (
        "The version has findings nobody acknowledged (at high or above, or at the chosen "
        "severity) or is flagged new_vulnerability or malicious.",
        "Upgrade to a version without the findings, or have a reviewer decide again.",
    ),
    "pending": ("This version awaits a reviewer's decision.", "Wait for the review."),
}


def advisory_uri(advisory_id: str) -> str:
    """Where a person reads an advisory: its OSV page (every id OSV knows, aliases included)."""
    return f"https://osv.dev/vulnerability/{quote(advisory_id, safe='')}"


def describe(r: Mapping[str, Any]) -> str:
    """One sentence about a dependency's verdict, for SARIF and JUnit messages."""
    version = r.get("version") or "(no version)"
    what = f"{r['ecosystem']} package {r['name']} {version}"
    parts = [f"{what}: {r['verdict']}"]
    if r.get("note"):
        parts.append(str(r["note"]))
    if r.get("status") == "approved":
        open_ = [f"{f.get('id')} ({f.get('severity')})" for f in unacknowledged(r)]
        if open_:
            parts.append("approved, but not acknowledged: " + ", ".join(open_))
    if r.get("nearest_approved"):
        parts.append(f"nearest approved version: {r['nearest_approved']}")
    if r.get("worst_severity"):
        parts.append(f"worst severity: {r['worst_severity']}")
    return "; ".join(parts) + "."


def _uri(path: str) -> str:
    """A file as a SARIF URI reference: relative to the working directory when inside it.

    Code-scanning dashboards resolve results against the repository root, where CI runs.
    """
    if os.path.isabs(path):
        relative = os.path.relpath(path)
        if not relative.startswith(".."):
            path = relative
    return path.replace(os.sep, "/").removeprefix("./") or "."


def _location(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    line = r.get("line")
    return [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": _uri(str(r.get("source") or ""))},
                "region": {"startLine": line if isinstance(line, int) and line > 0 else 1},
            }
        }
    ]


def _advisory_rule(finding: Mapping[str, Any]) -> dict[str, Any]:
    advisory_id = str(finding.get("id"))
    severity = str(finding.get("severity") or "unknown")
    aliases = [str(a) for a in finding.get("aliases") or []]
    also = f" (also {', '.join(aliases)})" if aliases else ""
    properties: dict[str, Any] = {
        "tags": ["security", "vulnerability", "dependency"],
        "aliases": aliases,
        "severity": severity,
    }
    if severity in _SECURITY_SEVERITY:
        properties["security-severity"] = _SECURITY_SEVERITY[severity]
    return {
        "id": advisory_id,
        "shortDescription": {"text": f"{advisory_id}{also}: a {severity} severity advisory"},
        "helpUri": advisory_uri(advisory_id),
        "help": {
            "text": f"Read {advisory_id}{also} at {advisory_uri(advisory_id)}; upgrade to a "
            "fixed version, or have a reviewer acknowledge or triage it."
        },
        "properties": properties,
    }


def _finding_level(r: Mapping[str, Any], finding: Mapping[str, Any], options: GateOptions) -> str:
    """``error`` when this finding fails the gate, ``note`` when settled, else ``warning``."""
    if not is_failure(str(r["verdict"]), options) or r["verdict"] != "vulnerable":
        blocking = False
    elif options.fail_on_severity is not None and reaches_severity(
        {str(finding.get("severity")): 1}, options.fail_on_severity
    ):
        blocking = True
    else:
        blocking = r.get("status") == "approved" and any(
            f.get("id") == finding.get("id") for f in unacknowledged(r)
        )
    if blocking:
        return "error"
    if finding.get("acknowledged") or finding.get("triaged"):
        return "note"
    return "warning"


def sarif(
    results: Sequence[Mapping[str, Any]], options: GateOptions, *, tool_version: str
) -> dict[str, Any]:
    """Return a SARIF 2.1.0 log of the gate's report rows (each with ``verdict``, ``source``).

    A dependency that is not approved gets a result of its verdict's rule, an
    ``error`` when it fails the run (a ``warning`` for pending versions that
    ``--allow-pending`` lets through); every finding of a version in the
    registry gets a result of its advisory's rule, an ``error`` when it is what
    fails the version, a ``note`` when acknowledged or triaged.
    """
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}

    def rule_index(rule: dict[str, Any]) -> int:
        if rule["id"] not in index:
            index[rule["id"]] = len(rules)
            rules.append(rule)
        return index[rule["id"]]

    out: list[dict[str, Any]] = []
    for r in results:
        version = r.get("version") or ""
        dependency = f"{r['ecosystem']}/{r['name']}@{version}"
        verdict_name = str(r["verdict"])
        advisories = [f for f in r.get("findings") or [] if f.get("id")]
        # A vulnerable version with open findings is told by them; by its verdict otherwise.
        told_by_findings = verdict_name == "vulnerable" and not blocking_flags(r) and any(
            _finding_level(r, f, options) == "error" for f in advisories
        )
        if verdict_name != "approved" and not told_by_findings:
            short, fix = _VERDICT_RULES[verdict_name]
            position = rule_index(
                {
                    "id": f"foss/{verdict_name}",
                    "name": f"Dependency{verdict_name.capitalize()}",
                    "shortDescription": {"text": short},
                    "help": {"text": f"{short} {fix}"},
                }
            )
            out.append(
                {
                    "ruleId": f"foss/{verdict_name}",
                    "ruleIndex": position,
                    "level": "error" if is_failure(verdict_name, options) else "warning",
                    "message": {"text": describe(r)},
                    "locations": _location(r),
                    "partialFingerprints": {"dependency/v1": dependency},
                }
            )
        for finding in advisories:
            advisory_id = str(finding["id"])
            state = (
                "acknowledged at approval"
                if finding.get("acknowledged")
                else "triaged"
                if finding.get("triaged")
                else "open"
            )
            out.append(
                {
                    "ruleId": advisory_id,
                    "ruleIndex": rule_index(_advisory_rule(finding)),
                    "level": _finding_level(r, finding, options),
                    "message": {
                        "text": f"{r['ecosystem']} package {r['name']} {version} "
                        f"({r.get('status')}) is affected by {advisory_id} "
                        f"({finding.get('severity')}); {state}."
                    },
                    "locations": _location(r),
                    "partialFingerprints": {
                        "dependency/v1": dependency,
                        "advisory/v1": f"{dependency}/{advisory_id}",
                    },
                }
            )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "foss check",
                        "semanticVersion": tool_version,
                        "rules": rules,
                    }
                },
                "results": out,
            }
        ],
    }
