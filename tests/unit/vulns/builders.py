"""Builders of hand-written OSV records and a toy ecosystem for the vulns tests."""

from __future__ import annotations

from typing import Any

from foss_registry.ecosystems.base import Ecosystem, InvalidNameError, InvalidVersionError
from foss_registry.vulns.osv import Affected, Record, record_from_builtins


def make_record(
    affected: list[dict[str, Any]] | None = None, *, id: str = "TEST-0001", **fields: Any
) -> Record:
    """A record with the given affected entries; other fields as given."""
    data: dict[str, Any] = {"id": id, "modified": "2024-01-01T00:00:00Z", **fields}
    if affected is not None:
        data["affected"] = affected
    return record_from_builtins(data)


def entry(
    *ranges: list[dict[str, str]] | tuple[str, list[dict[str, str]]],
    versions: list[str] | None = None,
    ecosystem: str = "PyPI",
    name: str = "pkg",
) -> dict[str, Any]:
    """An affected entry as JSON; each range is a list of events, or (type, events)."""
    out: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}, "ranges": []}
    for rng in ranges:
        kind, events = rng if isinstance(rng, tuple) else ("ECOSYSTEM", rng)
        out["ranges"].append({"type": kind, "events": events})
    if versions is not None:
        out["versions"] = versions
    return out


def affected(*ranges: Any, **kwargs: Any) -> Affected:
    """One parsed affected entry (see :func:`entry`)."""
    return make_record([entry(*ranges, **kwargs)]).affected[0]


class Toy(Ecosystem):
    """Versions are dot-separated integers compared numerically; trailing zeros don't count.

    Independent of the real ecosystem modules, so the range algorithm is tested
    on its own: ``1.0 == 1``, ``1.10 > 1.9``; anything else is invalid.
    """

    name = "toy"
    osv_name = "Toy"

    def validate_name(self, name: str) -> str:
        return name.strip()

    def normalize_name(self, name: str) -> str:
        if not name.strip():
            raise InvalidNameError("empty name")
        return name.strip().lower()

    def _parts(self, version: str) -> tuple[int, ...]:
        pieces = version.split(".")
        if not version or not all(p.isdigit() for p in pieces):
            raise InvalidVersionError(f"not a toy version: {version!r}")
        parts = [int(p) for p in pieces]
        while len(parts) > 1 and parts[-1] == 0:
            parts.pop()
        return tuple(parts)

    def canonical_version(self, version: str) -> str:
        return ".".join(map(str, self._parts(version)))

    def sort_key(self, version: str) -> Any:
        return self._parts(version)

    def sort_token(self, version: str) -> str:
        return ".".join(f"{p:09d}" for p in self._parts(version))

    def purl(self, name: str, version: str) -> str:
        return f"pkg:generic/{name}@{version}"


TOY = Toy()
