"""Reserving attempts: atomic under concurrency, in one process and across
processes sharing Redis; refunds; nothing counted when refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from roost.config import load_settings
from roost.observability.metrics import Metrics
from roost.ratelimit import Limit, MemoryRateLimiter, RateLimiter
from roost.ratelimit_redis import RedisRateLimiter
from roost.redis_link import RedisLink

STRICT = Limit("addr:192.0.2.1|account:1", 5, 300)
LOOSE = Limit("account:1", 12, 300)


def test_given_forty_concurrent_attempts_in_one_process_then_exactly_the_limit_is_granted() -> None:
    async def scenario() -> list[bool]:
        limiter = MemoryRateLimiter()
        answers = await asyncio.gather(*(limiter.reserve([STRICT, LOOSE]) for _ in range(40)))
        return [answer.granted for answer in answers]

    granted = asyncio.run(scenario())
    assert granted.count(True) == 5


def test_given_a_full_window_when_time_passes_then_room_returns_and_retry_after_says_when() -> None:
    clock = [1000.0]
    limiter = MemoryRateLimiter(now=lambda: clock[0])

    async def scenario() -> None:
        for step in range(5):
            clock[0] = 1000.0 + step * 10
            assert (await limiter.reserve([STRICT])).granted
        refused = await limiter.reserve([STRICT])
        # The oldest attempt (t=1000) leaves the window at t=1300; now t=1040.
        assert not refused.granted and 260 <= refused.retry_after <= 261
        clock[0] = 1300.5
        assert (await limiter.reserve([STRICT])).granted

    asyncio.run(scenario())


def test_given_a_refused_limit_when_reserving_several_then_none_of_them_is_counted() -> None:
    async def scenario() -> None:
        limiter = MemoryRateLimiter()
        for _ in range(5):
            assert (await limiter.reserve([STRICT, LOOSE])).granted
        for _ in range(10):
            assert not (await limiter.reserve([STRICT, LOOSE])).granted
        # The loose limit saw only the five granted attempts: seven more fit.
        other = Limit("addr:198.51.100.7|account:1", 5, 300)
        assert [(await limiter.reserve([other, LOOSE])).granted for _ in range(5)] == [True] * 5
        assert (await limiter.reserve([Limit("addr:x|account:1", 5, 300), LOOSE])).granted
        assert (await limiter.reserve([Limit("addr:x|account:1", 5, 300), LOOSE])).granted
        assert not (await limiter.reserve([Limit("addr:y|account:1", 5, 300), LOOSE])).granted

    asyncio.run(scenario())


def test_given_a_granted_attempt_when_refunded_then_its_room_is_given_back() -> None:
    async def scenario() -> None:
        limiter = MemoryRateLimiter()
        tickets = [await limiter.reserve([STRICT]) for _ in range(5)]
        assert not (await limiter.reserve([STRICT])).granted
        await limiter.refund(tickets[2])
        assert (await limiter.reserve([STRICT])).granted
        assert not (await limiter.reserve([STRICT])).granted

    asyncio.run(scenario())


@pytest.fixture
def shared_limiters(
    redis_url: str, redis_prefix: str, tmp_path: Path
) -> Callable[[int], AsyncIterator[list[RateLimiter]]]:
    """Limiters on separate Redis connections, as separate server processes have."""
    settings = load_settings(
        data_dir=tmp_path, redis_url=redis_url, redis_prefix=redis_prefix, secret_key="r" * 40
    )

    async def make(count: int) -> AsyncIterator[list[RateLimiter]]:
        links = [RedisLink(settings, Metrics()) for _ in range(count)]
        try:
            yield [RedisRateLimiter(link) for link in links]
        finally:
            for link in links:
                await link.close()

    return make


def test_given_processes_sharing_redis_when_forty_attempts_race_then_exactly_the_limit_is_granted(
    shared_limiters: Callable[[int], AsyncIterator[list[RateLimiter]]],
) -> None:
    async def scenario() -> None:
        async for limiters in shared_limiters(4):
            answers = await asyncio.gather(
                *(limiters[n % 4].reserve([STRICT, LOOSE]) for n in range(40))
            )
            granted = [a for a in answers if a.granted]
            assert len(granted) == 5
            assert all(a.retry_after >= 1 for a in answers if not a.granted)
            # A refund made by one process frees room that another sees.
            await limiters[1].refund(granted[0])
            assert (await limiters[3].reserve([STRICT, LOOSE])).granted
            assert not (await limiters[0].reserve([STRICT, LOOSE])).granted
            # Refused attempts were not counted against the looser limit.
            other = Limit("addr:198.51.100.7|account:1", 5, 300)
            assert [(await limiters[2].reserve([other, LOOSE])).granted for _ in range(5)] == [
                True
            ] * 5

    asyncio.run(scenario())


def test_given_redis_away_when_reserving_then_this_process_keeps_counting(
    shared_limiters: Callable[[int], AsyncIterator[list[RateLimiter]]],
) -> None:
    async def scenario() -> None:
        async for limiters in shared_limiters(1):
            limiter = limiters[0]
            assert isinstance(limiter, RedisRateLimiter)
            for _ in range(3):
                assert (await limiter.reserve([STRICT])).granted
            # Redis goes away: the copy this process kept of its three attempts
            # still counts, so only two more are granted.
            limiter.link.failed("test", ConnectionError("gone"))
            assert [(await limiter.reserve([STRICT])).granted for _ in range(3)] == [
                True,
                True,
                False,
            ]

    asyncio.run(scenario())


def test_given_an_erased_account_when_its_counts_are_forgotten_then_only_its_keys_go() -> None:
    async def scenario() -> None:
        limiter = MemoryRateLimiter()
        other = Limit("addr:192.0.2.1|account:11", 5, 300)
        await limiter.reserve([STRICT, LOOSE, Limit("addr:192.0.2.1", 50, 300)])
        await limiter.reserve([other])
        assert await limiter.forget("account:1") == 2
        assert [(await limiter.reserve([STRICT])).granted for _ in range(6)].count(True) == 5
        assert [(await limiter.reserve([other])).granted for _ in range(5)].count(True) == 4

    asyncio.run(scenario())


def test_given_redis_when_an_erased_accounts_counts_are_forgotten_then_only_its_keys_go(
    shared_limiters: Callable[[int], AsyncIterator[list[RateLimiter]]],
) -> None:
    async def scenario() -> None:
        async for limiters in shared_limiters(2):
            one, two = limiters
            other = Limit("addr:192.0.2.1|account:11", 5, 300)
            for _ in range(5):
                await one.reserve([STRICT, LOOSE])
                await one.reserve([other])
            # Forgotten through another process: Redis holds the counts.
            assert await two.forget("account:1") == 2
            assert (await two.reserve([STRICT, LOOSE])).granted
            assert not (await two.reserve([other])).granted

    asyncio.run(scenario())


async def _remaining_and_which(limiter: RateLimiter) -> None:
    """What X-RateLimit-* report: the limit with the fewest attempts left,
    and how many it has after this one; when refused, the limit that waits."""
    tight = Limit("remaining:tight", 2, 300)
    wide = Limit("remaining:wide", 4, 300)
    first = await limiter.reserve([wide, tight])
    assert (first.which, first.remaining) == (1, 1)
    second = await limiter.reserve([wide, tight])
    assert (second.which, second.remaining) == (1, 0)
    refused = await limiter.reserve([wide, tight])
    assert not refused.granted and refused.which == 1 and refused.remaining == 0
    # Alone, the wide limit has had two attempts counted: two left, one after this.
    alone = await limiter.reserve([wide])
    assert (alone.which, alone.remaining) == (0, 1)


def test_given_limits_in_one_process_then_the_nearest_to_refusing_is_reported() -> None:
    asyncio.run(_remaining_and_which(MemoryRateLimiter()))


def test_given_limits_in_redis_then_the_nearest_to_refusing_is_reported(
    shared_limiters: Callable[[int], AsyncIterator[list[RateLimiter]]],
) -> None:
    async def scenario() -> None:
        async for limiters in shared_limiters(1):
            await _remaining_and_which(limiters[0])

    asyncio.run(scenario())
