"""The interface every upstream reader implements, one module per ecosystem."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from foss_registry.upstream.http import UpstreamHttp
from foss_registry.upstream.models import UpstreamFacts

T = TypeVar("T")
#: Documents a reader keeps for the next versions it is asked about (the last so many).
MEMO_ENTRIES = 16


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
        self._memo: OrderedDict[str, asyncio.Future[Any]] = OrderedDict()

    async def once(self, key: str, read: Callable[[], Awaitable[T]]) -> T:
        """``read()`` once per key for this reader's life: askers at the same time and later
        ones share its answer or its error.

        One reader serves one enrichment, or a whole ``foss enrich`` run, which asks
        about many versions of one name (one project page, one packument, one
        metadata file) and many artifacts of one parent POM. The last
        :data:`MEMO_ENTRIES` keys are kept.
        """
        task = self._memo.get(key)
        if task is None:
            task = self._memo[key] = asyncio.ensure_future(read())
            while len(self._memo) > MEMO_ENTRIES:
                self._memo.popitem(last=False)
        else:
            self._memo.move_to_end(key)
        return await asyncio.shield(task)

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
