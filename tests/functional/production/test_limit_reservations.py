"""Counting in Redis ahead of use: few round trips far below a limit, never beyond it.

Far below its limit a server process takes permits from Redis in blocks and
tops them up in the background; concurrent requests share one increment. These
tests drive :class:`RateLimiter` against a real Redis with many concurrent
requests, as a busy API process would.
"""

from __future__ import annotations

import asyncio

import redis

from foss_registry.api.ratelimit import RateLimiter
from foss_registry.config import Settings


def _limiter(redis_url: str, prefix: str, limit: str) -> RateLimiter:
    settings = Settings(
        database_url="sqlite:///unused.db",
        redis_url=redis_url,
        rate_limit_prefix=prefix,
        rate_limit_per_ip=limit,
    )
    return RateLimiter(settings)


async def _burst(limiter: RateLimiter, clients: int, each: int) -> list[bool]:
    """``clients`` concurrent request streams of ``each`` requests; whether each was allowed."""
    allowed: list[bool] = []

    async def client() -> None:
        for _ in range(each):
            state = await limiter.count(limiter.per_ip, "ip", "10.0.0.7")
            assert state is not None
            allowed.append(state.allowed)
            await asyncio.sleep(0)

    await asyncio.gather(*(client() for _ in range(clients)))
    return allowed


def _shared_count(redis_url: str, prefix: str) -> int:
    store = redis.Redis.from_url(redis_url)
    (key,) = store.keys(f"{prefix}*")
    return int(store.get(key) or 0)


def test_exactly_the_limit_is_admitted_under_concurrency(redis_url: str, redis_prefix: str) -> None:
    limiter = _limiter(redis_url, redis_prefix, "1000/minute")
    allowed = asyncio.run(_burst(limiter, clients=40, each=40))
    assert allowed.count(True) == 1000
    assert allowed.count(False) == 600


def test_far_below_the_limit_requests_share_few_increments(
    redis_url: str, redis_prefix: str
) -> None:
    limiter = _limiter(redis_url, redis_prefix, "100000000/minute")
    allowed = asyncio.run(_burst(limiter, clients=32, each=250))
    assert all(allowed) and len(allowed) == 8000
    # Blocks of 64 permits, one increment at a time: the shared count runs ahead
    # of use only by what this process still holds. (Had each waiting request
    # sent its own increment, it would run thousands ahead.)
    taken = _shared_count(redis_url, redis_prefix)
    assert 8000 <= taken <= 8000 + 2 * RateLimiter.RESERVE_MAX
