"""Package ecosystems: one module each, looked up by their API name with :func:`get`."""

from __future__ import annotations

from foss_registry.ecosystems.base import Ecosystem, InvalidNameError, InvalidVersionError
from foss_registry.ecosystems.docker import Docker
from foss_registry.ecosystems.maven import Maven
from foss_registry.ecosystems.npm import Npm
from foss_registry.ecosystems.pypi import PyPI
from foss_registry.errors import InvalidInputError

_REGISTRY: dict[str, Ecosystem] = {e.name: e for e in (PyPI(), Npm(), Maven(), Docker())}

#: API names of every supported ecosystem, in a stable order.
NAMES: tuple[str, ...] = tuple(_REGISTRY)


class UnknownEcosystemError(InvalidInputError):
    """The ecosystem is not one this registry supports."""

    code = "invalid_ecosystem"


def get(name: str) -> Ecosystem:
    """Return the ecosystem for an API name (case-insensitive)."""
    eco = _REGISTRY.get(name.strip().lower()) if isinstance(name, str) else None
    if eco is None:
        raise UnknownEcosystemError(
            f"Unknown ecosystem {name!r}; use one of: {', '.join(NAMES)}."
        )
    return eco


def by_osv_name(osv_name: str) -> Ecosystem | None:
    """Return the ecosystem an OSV record's ``ecosystem`` field names, if supported."""
    for eco in _REGISTRY.values():
        if eco.osv_name == osv_name:
            return eco
    return None


__all__ = [
    "NAMES",
    "Ecosystem",
    "InvalidNameError",
    "InvalidVersionError",
    "UnknownEcosystemError",
    "by_osv_name",
    "get",
]
