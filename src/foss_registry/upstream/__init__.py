"""Readers of the ecosystems' own registries (PyPI, npm, Maven, Docker), configured by URL only.

One module per ecosystem behind :class:`~foss_registry.upstream.base.Upstream`,
over one bounded HTTP client (:mod:`foss_registry.upstream.http`). No public
registry's address is written here: ``FOSS_UPSTREAM_PYPI``, ``FOSS_UPSTREAM_NPM``,
``FOSS_UPSTREAM_MAVEN`` and the optional ``FOSS_UPSTREAM_DOCKER`` say where to
read; an unset one is ``not_configured``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from foss_registry.upstream.base import Upstream
from foss_registry.upstream.docker import DockerUpstream
from foss_registry.upstream.http import (
    HttpLimits,
    NotConfiguredError,
    NotFoundError,
    ResponseCache,
    UnavailableError,
    UpstreamError,
    UpstreamHttp,
    run_sync,
    without_credentials,
)
from foss_registry.upstream.maven import MavenUpstream
from foss_registry.upstream.models import UpstreamFacts
from foss_registry.upstream.npm import NpmUpstream
from foss_registry.upstream.pypi import PyPIUpstream

_READERS: dict[str, type[Upstream]] = {
    "pypi": PyPIUpstream,
    "npm": NpmUpstream,
    "maven": MavenUpstream,
    "docker": DockerUpstream,
}
#: Ecosystems an upstream can be configured for.
ECOSYSTEMS: tuple[str, ...] = tuple(_READERS)


@dataclass(frozen=True)
class UpstreamConfig:
    """Where each ecosystem's upstream is (None: not configured) and how to ask it."""

    urls: dict[str, str | None]
    limits: HttpLimits = field(default_factory=HttpLimits)

    @classmethod
    def from_settings(cls, settings: object) -> UpstreamConfig:
        """Read ``FOSS_UPSTREAM_*`` from a Settings object."""
        urls = {eco: getattr(settings, f"upstream_{eco}", None) or None for eco in ECOSYSTEMS}
        limits = HttpLimits(
            timeout=float(getattr(settings, "upstream_timeout_seconds", 5.0)),
            deadline=float(getattr(settings, "upstream_timeout_seconds", 5.0)) * 2,
            retries=int(getattr(settings, "upstream_retries", 2)),
            max_bytes=int(getattr(settings, "upstream_max_bytes", HttpLimits.max_bytes)),
        )
        return cls(urls=urls, limits=limits)

    def url(self, ecosystem: str) -> str | None:
        """The base URL configured for an ecosystem, if any."""
        return self.urls.get(ecosystem)

    def not_configured(self) -> list[str]:
        """Ecosystems without an upstream, in a stable order."""
        return [eco for eco in ECOSYSTEMS if not self.urls.get(eco)]


def reader(ecosystem: str, base_url: str, http: UpstreamHttp) -> Upstream:
    """The reader of an ecosystem's upstream at a base URL."""
    return _READERS[ecosystem](base_url, http)


__all__ = [
    "ECOSYSTEMS",
    "DockerUpstream",
    "HttpLimits",
    "MavenUpstream",
    "NotConfiguredError",
    "NotFoundError",
    "NpmUpstream",
    "PyPIUpstream",
    "ResponseCache",
    "UnavailableError",
    "Upstream",
    "UpstreamConfig",
    "UpstreamError",
    "UpstreamFacts",
    "UpstreamHttp",
    "reader",
    "run_sync",
    "without_credentials",
]
