"""OpenVEX 0.2: the triage as a VEX document, and VEX statements read back for ``foss check``.

Mapping (DESIGN "Details of standing decisions"): ``not_affected`` is
``not_affected`` with its justification; ``accepted_risk`` is ``affected``
with an ``action_statement``; ``false_positive`` is ``not_affected`` with
``vulnerable_code_not_present`` and an ``impact_statement``. Products are purls.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL

from foss_registry import ecosystems
from foss_registry.errors import InvalidInputError
from foss_registry.triage.records import TriageDecision

CONTEXT = "https://openvex.dev/ns/v0.2.0"
#: OpenVEX's justifications for ``not_affected`` (also the API's).
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
#: VEX statuses under which a finding stops counting in ``foss check --vex``.
NOT_COUNTING = ("not_affected", "fixed")
_PLACEHOLDER = {"pypi": "0", "npm": "0.0.0", "maven": "0", "docker": "latest"}


def versionless_purl(ecosystem: str, name: str) -> str:
    """The purl of a package without a version (every version of it)."""
    eco = ecosystems.get(ecosystem)
    placeholder = _PLACEHOLDER[eco.name]
    return eco.purl(name, placeholder).replace("@" + placeholder, "", 1)


def statement(
    entry: TriageDecision, products: Sequence[str], aliases: Sequence[str]
) -> dict[str, Any]:
    """One OpenVEX statement for a triage decision."""
    vulnerability: dict[str, Any] = {"name": entry.advisory}
    others = sorted({a for a in aliases if a != entry.advisory})
    if others:
        vulnerability["aliases"] = others
    out: dict[str, Any] = {
        "@id": f"urn:foss-registry:triage:{entry.id}",
        "vulnerability": vulnerability,
        "products": [{"@id": p} for p in products],
        "timestamp": entry.created_at,
    }
    comment = entry.comment or ""
    if entry.state == "not_affected":
        out |= {"status": "not_affected", "justification": entry.justification}
        if comment:
            out["impact_statement"] = comment
    elif entry.state == "false_positive":
        out |= {
            "status": "not_affected",
            "justification": "vulnerable_code_not_present",
            "impact_statement": "False positive: " + (comment or "the finding does not apply."),
        }
    else:
        out |= {
            "status": "affected",
            "action_statement": "Risk accepted: " + (comment or "no action planned."),
        }
    if comment:
        out["status_notes"] = comment
    return out


def document(statements: list[dict[str, Any]], *, timestamp: str, author: str) -> dict[str, Any]:
    """The whole OpenVEX document; its ``@id`` is derived from its statements."""
    digest = hashlib.sha256(json.dumps(statements, sort_keys=True).encode()).hexdigest()[:32]
    return {
        "@context": CONTEXT,
        "@id": f"urn:foss-registry:vex:{digest}",
        "author": author,
        "timestamp": timestamp,
        "version": 1,
        "tooling": "FOSS Registry",
        "statements": statements,
    }


@dataclass(frozen=True)
class ProductKey:
    """A purl as the registry matches it: ecosystem, normalised name, canonical version."""

    ecosystem: str
    normalized_name: str
    #: None: every version.
    canonical_version: str | None


def product_key(purl: str) -> ProductKey | None:
    """Match a purl to the registry's identity of a package; None for other types or bad purls."""
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    kind = parsed.type.lower()
    if kind == "maven":
        name = f"{parsed.namespace}:{parsed.name}"
    elif kind == "npm":
        name = f"{parsed.namespace}/{parsed.name}" if parsed.namespace else parsed.name
    elif kind == "docker":
        host = (parsed.qualifiers or {}).get("repository_url")
        name = "/".join(p for p in (host, parsed.namespace, parsed.name) if p)
    elif kind == "pypi":
        name = parsed.name
    else:
        return None
    try:
        eco = ecosystems.get(kind)
        normalized = eco.normalize_name(name)
        version = eco.canonical_version(parsed.version) if parsed.version else None
    except InvalidInputError:
        return None
    return ProductKey(eco.name, normalized, version)


@dataclass(frozen=True)
class VexStatement:
    """A statement of a VEX file that makes findings stop counting."""

    vulnerability: str
    aliases: tuple[str, ...]
    products: tuple[str, ...]
    status: str
    justification: str | None = None


def read_statements(data: Any) -> list[VexStatement]:
    """Read the statements of an OpenVEX document whose findings stop counting.

    Raises InvalidInputError when the document is not OpenVEX-shaped. Later
    statements about the same vulnerability and product override earlier ones
    (OpenVEX's ordering), so only the last status of each pair is kept.
    """
    if not isinstance(data, dict) or not isinstance(data.get("statements"), list):
        raise InvalidInputError(
            "Not an OpenVEX document: expected a JSON object with a 'statements' list.",
            code="invalid_vex",
        )
    latest: dict[tuple[str, str], VexStatement] = {}
    for index, raw in enumerate(data["statements"]):
        vulnerability = raw.get("vulnerability") if isinstance(raw, dict) else None
        name = vulnerability.get("name") if isinstance(vulnerability, dict) else None
        status = raw.get("status") if isinstance(raw, dict) else None
        if not isinstance(name, str) or status not in (
            *NOT_COUNTING,
            "affected",
            "under_investigation",
        ):
            raise InvalidInputError(
                f"OpenVEX statement {index + 1} needs a vulnerability name and a valid status.",
                code="invalid_vex",
            )
        assert isinstance(vulnerability, dict) and isinstance(raw, dict)
        aliases = tuple(str(a) for a in vulnerability.get("aliases") or [])
        for product in raw.get("products") or []:
            purl = product.get("@id") if isinstance(product, dict) else None
            ids = product.get("identifiers") if isinstance(product, dict) else None
            if isinstance(ids, dict) and isinstance(ids.get("purl"), str):
                purl = ids["purl"]
            if isinstance(purl, str):
                latest[(name.casefold(), purl)] = VexStatement(
                    name, aliases, (purl,), status, raw.get("justification")
                )
    return [s for s in latest.values() if s.status in NOT_COUNTING]
