"""The on-disk file cache: hash checked while filling, nothing kept on a mismatch, LRU eviction."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from foss_registry.index.cache import FileCache, HashMismatchError


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def digest(data: bytes) -> tuple[str, str]:
    return "sha256", hashlib.sha256(data).hexdigest()


def files_in(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_matching_file_is_kept_and_found_again(tmp_path: Path) -> None:
    cache = FileCache(tmp_path, 10**6)
    data = os.urandom(5000)
    stored = asyncio.run(
        cache.fill(("pypi", "demo", "demo-1.0.tar.gz"), chunks(data), digest(data), "x")
    )
    assert stored.size == 5000 and stored.path.read_bytes() == data
    again = cache.get(("pypi", "demo", "demo-1.0.tar.gz"))
    assert again is not None and again.path == stored.path


def test_a_mismatch_keeps_nothing(tmp_path: Path) -> None:
    cache = FileCache(tmp_path, 10**6)
    data = os.urandom(5000)
    with pytest.raises(HashMismatchError) as caught:
        asyncio.run(
            cache.fill(("npm", "x", "x-1.0.0.tgz"), chunks(data), digest(data + b"!"), "x@1.0.0")
        )
    assert caught.value.status == 502
    assert cache.get(("npm", "x", "x-1.0.0.tgz")) is None
    assert files_in(tmp_path) == []


def test_least_recently_used_files_go_first(tmp_path: Path) -> None:
    cache = FileCache(tmp_path, 3500)
    payloads = {f"f{i}.tar.gz": os.urandom(1000) for i in range(3)}
    old = time.time() - 3600
    for i, (name, data) in enumerate(payloads.items()):
        asyncio.run(cache.fill(("pypi", "p", name), chunks(data), digest(data), name))
        path = cache.path(("pypi", "p", name))
        os.utime(path, (old + i, old + i))  # f0 oldest
    # f0 is read again, so f1 is now the least recently used.
    assert cache.get(("pypi", "p", "f0.tar.gz")) is not None
    os.utime(cache.path(("pypi", "p", "f0.tar.gz")), (old + 10, old + 10))
    cache.max_bytes = 2500
    left = cache.evict()
    names = sorted(p.name for p in files_in(tmp_path))
    assert names == ["f0.tar.gz", "f2.tar.gz"] and left == 2000


@pytest.mark.parametrize("parts", [("pypi", "..", "x"), ("pypi", "a/b"), ("pypi", ""), ()])
def test_paths_outside_the_cache_are_refused(tmp_path: Path, parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        FileCache(tmp_path, 10).path(parts)
