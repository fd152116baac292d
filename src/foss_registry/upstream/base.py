"""The interface every upstream reader implements, one module per ecosystem."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime

from foss_registry.upstream.http import UpstreamHttp
from foss_registry.upstream.models import UpstreamFacts


class Upstream(ABC):
    """Reads one ecosystem's registry at a configured base URL through an :class:`UpstreamHttp`.

    :meth:`facts` raises :class:`~foss_registry.upstream.http.NotFoundError`
    when the registry does not know the name or the version, and
    :class:`~foss_registry.upstream.http.UnavailableError` (with a reason)
    when it could not be asked or answered something unusable.
    """

    #: The ecosystem's API name (``pypi``, ``npm``, ``maven``).
    ecosystem: str = ""

    def __init__(self, base_url: str, http: UpstreamHttp) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.http = http

    @abstractmethod
    async def facts(self, name: str, version: str) -> UpstreamFacts:
        """What the registry says about one version."""


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time (``Z`` allowed) as an aware UTC datetime, None when it does not parse."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def text_or_none(value: object, *, max_length: int = 2000) -> str | None:
    """A non-empty string trimmed to a sane length, else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:max_length] if value else None
