"""Docker: image repositories, with a tag or a ``sha256:`` digest as the version.

``nginx``, ``library/nginx``, ``docker.io/library/nginx`` and
``index.docker.io/library/nginx`` name one repository, ``library/nginx``. Tags
that read as versions (``1.25.3``, ``v2.0``) are ordered by version and above
every other tag; other tags and digests have no order among themselves, and
the service falls back to submission time for them.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

from packageurl import PackageURL
from packaging.version import InvalidVersion, Version

from foss_registry.ecosystems.base import (
    Ecosystem,
    clean_name,
    clean_range,
    clean_version,
    name_error,
    range_error,
    shown,
    version_error,
)
from foss_registry.ecosystems.pypi import version_token

# The grammar of the distribution project's reference package.
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_DOMAIN_PART = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_HOST = re.compile(
    rf"^(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$", re.ASCII
)
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# A tag pattern: tag characters with ``*`` (any run) and ``?`` (one character).
_TAG_PATTERN = re.compile(r"^[A-Za-z0-9_.*?-]{1,128}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$", re.IGNORECASE)
# Docker Hub under its names; it is the default and so dropped from the path.
_DEFAULT_HOSTS = frozenset({"docker.io", "index.docker.io"})
_OFFICIAL_NAMESPACE = "library"

# Tokens of tags and digests that have no order: below every version tag ("1...").
_UNORDERED_TOKEN = "0"


def _split(name: str) -> tuple[str | None, list[str]]:
    """Split a repository into its registry host (None for the default) and path."""
    parts = name.split("/")
    first = parts[0]
    # Docker's own rule: a first component is a registry host when there is a
    # path after it and it has a dot or port, or is "localhost".
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        host = first.lower()
        return (None if host in _DEFAULT_HOSTS else host), parts[1:]
    return None, parts


def split_repository(name: str) -> tuple[str | None, str]:
    """A repository as its registry host (None for the default registry) and its path there:
    ``nginx`` is ``(None, "library/nginx")``, ``registry.example.internal:5000/team/app`` is
    ``("registry.example.internal:5000", "team/app")``."""
    host, path = _split(Docker().normalize_name(name))
    return host, "/".join(path)


def _version_tag(tag: str) -> Version | None:
    """Return the version a tag reads as, or None for tags such as ``latest``."""
    try:
        return Version(tag)
    except InvalidVersion:
        return None


class Docker(Ecosystem):
    """Container images in Docker Hub or another registry."""

    name = "docker"
    osv_name = None

    def validate_name(self, name: str) -> str:
        """Return the repository trimmed and as given, or raise InvalidNameError."""
        text = clean_name(name, "Docker repository")
        host, path = _split(text)
        if "@" in text or ":" in path[-1]:
            raise name_error(
                f"The Docker repository {shown(text)} seems to include a tag or digest; give "
                "the repository (e.g. 'library/nginx') as the name and the tag as the version."
            )
        if host is not None and not _HOST.match(host):
            raise name_error(
                f"The registry host of the Docker repository {shown(text)} is not valid; "
                "use a host name with an optional port, e.g. 'ghcr.io' or 'localhost:5000'."
            )
        if not all(_COMPONENT.match(part) for part in path):
            raise name_error(
                f"The Docker repository {shown(text)} is not valid; use lower-case path "
                "components of letters and digits joined by '.', '_', '__' or '-', separated "
                "by '/', e.g. 'library/nginx' or 'ghcr.io/org/app'."
            )
        return text

    def normalize_name(self, name: str) -> str:
        """Return the repository without Docker Hub's host, with ``library/`` for bare names."""
        host, path = _split(self.validate_name(name))
        if host is None:
            if len(path) == 1:
                path = [_OFFICIAL_NAMESPACE, *path]
            return "/".join(path)
        return "/".join([host, *path])

    def _parse(self, version: str) -> tuple[str, Version | None]:
        """Return the canonical tag or digest and the version it reads as, if any."""
        text = clean_version(version, "Docker tag or digest")
        if _DIGEST.match(text):
            return text.lower(), None
        if text.lower().startswith("sha256:"):
            raise version_error(
                f"The Docker digest {shown(text)} is not valid; use 'sha256:' followed by "
                "64 hexadecimal characters."
            )
        if not _TAG.match(text):
            raise version_error(
                f"The Docker tag {shown(text)} is not valid; use letters, digits, '_', '.' "
                "and '-', starting with a letter, digit or '_' (at most 128 characters), "
                "or a 'sha256:' digest."
            )
        return text, _version_tag(text)

    def canonical_version(self, version: str) -> str:
        """Return the tag as given (tags are case-sensitive) or the digest in lower case."""
        return self._parse(version)[0]

    def sort_key(self, version: str) -> tuple[Any, ...]:
        """Return ``(1, Version)`` for version tags and ``(0,)`` for tags with no order."""
        parsed = self._parse(version)[1]
        return (0,) if parsed is None else (1, parsed)

    def sort_token(self, version: str) -> str:
        """Return ``"1"`` and the PEP 440 token for version tags, ``"0"`` for the rest."""
        parsed = self._parse(version)[1]
        return _UNORDERED_TOKEN if parsed is None else "1" + version_token(parsed)

    def purl(self, name: str, version: str) -> str:
        """Return ``pkg:docker/<namespace>/<name>@<tag>``, another registry as ``repository_url``.

        A digest keeps its ``:`` as packageurl writes it: the purl specification
        says a colon is never percent-encoded.
        """
        host, path = _split(self.normalize_name(name))
        return PackageURL(
            type="docker",
            namespace="/".join(path[:-1]) or None,
            name=path[-1],
            version=self.canonical_version(version),
            qualifiers={"repository_url": host} if host else None,
        ).to_string()

    def normalize_range(self, text: str) -> str:
        """Return a tag pattern (``1.25.*``, ``3.19-alpine*``) as given; ``*`` any run, ``?`` one.

        A pattern never matches a ``sha256:`` digest: a digest names one image.
        """
        raw = clean_range(text, "Docker tag pattern")
        if not _TAG_PATTERN.match(raw):
            raise range_error(
                f"The Docker tag pattern {shown(raw)} is not valid; use tag characters "
                "(letters, digits, '_', '.', '-') with '*' for any run and '?' for one "
                "character, e.g. '1.25.*' or '3.19-alpine*'."
            )
        return raw

    def in_range(self, normalized_range: str, version: str) -> bool:
        """Whether the tag matches the pattern (case-sensitive, as tags are)."""
        tag = self.canonical_version(version)
        return not _DIGEST.match(tag) and fnmatchcase(tag, normalized_range)
