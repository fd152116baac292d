"""What an upstream registry says about one version: the facts enrichment stores.

Every field exists for every ecosystem; one that has no such fact leaves it
null or empty. The license is kept as upstream wrote it (``license_raw``);
normalising it to SPDX is the licenses package's business.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

#: Dependency scopes, the same words for every ecosystem.
SCOPES = ("runtime", "optional", "dev", "test")


class Dependency(msgspec.Struct, frozen=True):
    """A declared dependency, its requirement as the ecosystem writes it."""

    name: str
    requirement: str
    scope: str = "runtime"


class InstallScript(msgspec.Struct, frozen=True):
    """A command the package manager runs at install (npm ``preinstall``/``install``/…)."""

    name: str
    command: str


class UpstreamFile(msgspec.Struct, frozen=True, omit_defaults=True):
    """A file of the version: a wheel, an sdist, a tarball, a jar or a POM."""

    filename: str
    kind: str
    url: str | None = None
    sha256: str | None = None
    integrity: str | None = None


class UpstreamFacts(msgspec.Struct, frozen=True):
    """The facts of one version as its upstream registry states them."""

    #: The URL that was read.
    source: str
    license_raw: str | None = None
    released_at: datetime | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    #: The deprecation message, or None.
    deprecated: str | None = None
    homepage: str | None = None
    repository: str | None = None
    dependencies: list[Dependency] = msgspec.field(default_factory=list)
    install_scripts: list[InstallScript] = msgspec.field(default_factory=list)
    files: list[UpstreamFile] = msgspec.field(default_factory=list)
