"""Upstream files kept on disk (``FOSS_INDEX_CACHE_DIR``), checked, bounded, least recently used.

A file is fetched from upstream once: its bytes stream into a temporary file
in the cache directory while their digest is computed, and only a file whose
digest matches the one upstream published is moved into place (an atomic
rename, so other processes never see half a file). A mismatch deletes the
temporary file and raises :class:`HashMismatchError` (a 502): nothing is
cached. Reads touch the file's modification time; when the cache grows past
its limit the least recently used files are deleted (never one touched in the
last few seconds, which may be on its way to a client). Bytes are never held
whole in memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from foss_registry.index.errors import BadUpstreamError

#: One component of a cache path: a project, a scope, or a file name.
_PART = re.compile(r"^@?[A-Za-z0-9][A-Za-z0-9._+!~-]{0,254}$")
_TMP = ".tmp"
#: Files read this recently are never evicted (they may be being sent).
_RECENT_SECONDS = 10.0


class HashMismatchError(BadUpstreamError):
    """Upstream's bytes do not match the digest upstream published (502, nothing cached)."""

    code = "hash_mismatch"


@dataclass(frozen=True)
class CachedFile:
    """A file in the cache: where it is and how large."""

    path: Path
    size: int


class FileCache:
    """The on-disk cache of upstream files under one directory, at most ``max_bytes``."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._total: int | None = None
        self._locks: dict[Path, asyncio.Lock] = {}

    def path(self, parts: tuple[str, ...]) -> Path:
        """Where a file lives; every part is a plain name (never ``..`` or a separator)."""
        if not parts or not all(_PART.match(p) and ".." not in p for p in parts):
            raise ValueError(f"not a cache path: {parts!r}")
        return self.root.joinpath(*parts)

    def get(self, parts: tuple[str, ...]) -> CachedFile | None:
        """The cached file, marked as just used, or None."""
        path = self.path(parts)
        try:
            stat = path.stat()
            os.utime(path)
        except OSError:
            return None
        return CachedFile(path, stat.st_size)

    async def fill(
        self,
        parts: tuple[str, ...],
        chunks: AsyncIterator[bytes],
        digest: tuple[str, str],
        what: str,
    ) -> CachedFile:
        """Store the bytes of ``chunks`` if their digest is ``digest`` (algorithm, hex).

        Concurrent fills of one file in this process wait for the first.
        Raises :class:`HashMismatchError` (and caches nothing) on a mismatch.
        """
        path = self.path(parts)
        lock = self._locks.setdefault(path, asyncio.Lock())
        async with lock:
            try:
                cached = self.get(parts)
                if cached is not None:
                    return cached
                return await self._fill(path, chunks, digest, what)
            finally:
                if not lock._waiters:  # the last one out forgets the lock
                    self._locks.pop(path, None)

    async def _fill(
        self, path: Path, chunks: AsyncIterator[bytes], digest: tuple[str, str], what: str
    ) -> CachedFile:
        algorithm, expected = digest
        hasher = hashlib.new(algorithm)
        tmp_dir = self.root / _TMP
        await anyio.to_thread.run_sync(lambda: tmp_dir.mkdir(parents=True, exist_ok=True))
        tmp = tmp_dir / uuid.uuid4().hex
        size = 0
        handle = await anyio.to_thread.run_sync(tmp.open, "wb")
        try:
            async for chunk in chunks:
                hasher.update(chunk)
                size += len(chunk)
                await anyio.to_thread.run_sync(handle.write, chunk)
            await anyio.to_thread.run_sync(handle.close)
            if hasher.hexdigest() != expected:
                raise HashMismatchError(
                    f"The upstream's bytes of {what} do not match the {algorithm} digest the "
                    "upstream published; the file was not cached or served."
                )

            def publish() -> None:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, path)

            await anyio.to_thread.run_sync(publish)
        except BaseException:
            handle.close()
            tmp.unlink(missing_ok=True)
            raise
        await self._account(size, path)
        return CachedFile(path, size)

    async def _account(self, size: int, keep: Path) -> None:
        if self._total is None:
            self._total = await anyio.to_thread.run_sync(self._scan_total)
        else:
            self._total += size
        if self._total > self.max_bytes:
            self._total = await anyio.to_thread.run_sync(self.evict, keep)

    def _files(self) -> list[tuple[float, int, Path]]:
        found = []
        for directory, dirnames, filenames in os.walk(self.root):
            if directory == str(self.root) and _TMP in dirnames:
                dirnames.remove(_TMP)
            for filename in filenames:
                path = Path(directory) / filename
                try:
                    stat = path.stat()
                except OSError:
                    continue
                found.append((stat.st_mtime, stat.st_size, path))
        return found

    def _scan_total(self) -> int:
        return sum(size for _, size, _ in self._files())

    def evict(self, keep: Path | None = None) -> int:
        """Delete least recently used files until the cache is under 90 % of its limit.

        Returns the size left. ``keep`` (the file just stored) and files used
        in the last few seconds stay.
        """
        files = sorted(self._files())
        total = sum(size for _, size, _ in files)
        target = self.max_bytes * 0.9
        recent = time.time() - _RECENT_SECONDS
        for mtime, size, path in files:
            if total <= target:
                break
            if path == keep or mtime > recent:
                continue
            try:
                path.unlink()
            except OSError:
                continue
            total -= size
        return total
