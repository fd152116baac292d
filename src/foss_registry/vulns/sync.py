"""Download the OSV per-ecosystem exports and import them (``foss vulndb sync``).

The exports are laid out as ``<base URL>/<Ecosystem>/all.zip`` (osv.dev's
layout); the base URL comes from ``FOSS_OSV_URL`` and has no default, so the
registry never reaches out to the network unless an admin asks it to. Each
zip is streamed to a temporary file with a timeout, retried with backoff on
network errors and 5xx answers, then imported like ``foss vulndb import``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import Engine

from foss_registry import __version__
from foss_registry.config import Settings
from foss_registry.errors import DomainError, InvalidInputError
from foss_registry.vulns import service
from foss_registry.vulns.service import ImportReport, Rescans

__all__ = [
    "DownloadError",
    "SyncResult",
    "download",
    "export_url",
    "sync",
]

_CHUNK = 1 << 16


class DownloadError(DomainError):
    """An export could not be downloaded (offline, refused, timed out, HTTP error)."""

    status = 502
    code = "download_failed"
    title = "Bad Gateway"


@dataclass
class SyncResult:
    """One ecosystem's export: where it came from, its size, and what the import did."""

    ecosystem: str
    url: str
    bytes: int
    report: ImportReport


def export_url(base_url: str, ecosystem: str) -> str:
    """The URL of one ecosystem's export: ``<base>/<Ecosystem>/all.zip``."""
    return f"{base_url.rstrip('/')}/{quote(ecosystem, safe='')}/all.zip"


def _base_url(settings: Settings) -> str:
    url = (settings.osv_url or "").strip()
    if not url:
        raise InvalidInputError(
            "No download location is configured: set FOSS_OSV_URL to the base URL of the OSV "
            "exports (the folder holding <Ecosystem>/all.zip), or load files you have with "
            "`foss vulndb import PATH`."
        )
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"FOSS_OSV_URL must be an http:// or https:// URL, got {url!r}.")
    return url


def download(
    client: httpx.Client,
    url: str,
    target: Path,
    *,
    retries: int,
    backoff: float = 1.0,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Stream ``url`` to ``target`` and return its size; retry network errors and 5xx.

    ``on_progress`` gets (bytes so far, total or None). Raises
    :class:`DownloadError` with a sentence a person can act on.
    """
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            with client.stream("GET", url) as response:
                if response.status_code == 404:
                    raise DownloadError(
                        f"{url} does not exist (HTTP 404); check FOSS_OSV_URL and "
                        "FOSS_OSV_ECOSYSTEMS."
                    )
                if response.status_code >= 500:
                    last = f"the server answered HTTP {response.status_code}"
                    continue
                if response.status_code != 200:
                    raise DownloadError(f"{url} answered HTTP {response.status_code}.")
                total_header = response.headers.get("content-length")
                total = int(total_header) if total_header and total_header.isdigit() else None
                size = 0
                with target.open("wb") as out:
                    for chunk in response.iter_bytes(_CHUNK):
                        out.write(chunk)
                        size += len(chunk)
                        if on_progress is not None:
                            on_progress(size, total)
                if total is not None and size != total:
                    last = f"the download stopped after {size} of {total} bytes"
                    continue
                return size
        except httpx.TimeoutException:
            last = "the connection timed out"
        except httpx.TransportError as exc:
            last = f"cannot connect ({exc or type(exc).__name__})"
    tries = retries + 1
    raise DownloadError(
        f"Could not download {url} after {tries} attempt{'s' if tries > 1 else ''}: {last}. "
        "Is this machine offline, or FOSS_OSV_URL wrong?"
    )


def sync(
    engine: Engine,
    settings: Settings,
    *,
    rescans: Rescans,
    ecosystems: Sequence[str] | None = None,
    on_download: Callable[[str, int, int | None], None] | None = None,
    on_import: Callable[[int], None] | None = None,
    backoff: float = 1.0,
) -> list[SyncResult]:
    """Download every configured ecosystem's export, then import each.

    All downloads finish before anything is imported, so a network failure
    leaves the database as it was. ``rescans`` brings the scans up to date
    after each import (see :func:`foss_registry.vulns.service.import_records`).
    """
    base = _base_url(settings)
    wanted = (
        list(ecosystems)
        if ecosystems
        else [e.strip() for e in settings.osv_ecosystems.split(",") if e.strip()]
    )
    if not wanted:
        raise InvalidInputError("FOSS_OSV_ECOSYSTEMS is empty; name at least one ecosystem.")
    timeout = httpx.Timeout(settings.osv_timeout_seconds)
    headers = {"User-Agent": f"foss-registry/{__version__}"}
    with (
        tempfile.TemporaryDirectory(prefix="foss-osv-") as folder,
        httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client,
    ):
        downloaded: list[tuple[str, str, Path, int]] = []
        for ecosystem in wanted:
            url = export_url(base, ecosystem)
            target = Path(folder) / f"{ecosystem}.zip"

            def progress(done: int, total: int | None, name: str = ecosystem) -> None:
                if on_download is not None:
                    on_download(name, done, total)

            size = download(
                client,
                url,
                target,
                retries=settings.osv_retries,
                backoff=backoff,
                on_progress=progress,
            )
            downloaded.append((ecosystem, url, target, size))
        results = []
        for ecosystem, url, target, size in downloaded:
            report = service.import_path(engine, target, rescans=rescans, progress=on_import)
            results.append(SyncResult(ecosystem, url, size, report))
        return results
