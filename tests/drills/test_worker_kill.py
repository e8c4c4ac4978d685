"""Drill: a worker killed with SIGKILL in the middle of fan-out.

Its claimed jobs stay leased until the lease runs out, then another worker
runs them again. Because fan-out and notifications are idempotent, every
follower's timeline ends complete and nothing shows twice.
"""

from __future__ import annotations

import signal
import time

import pytest
import redis
from sqlalchemy import func, select

from roost.db.tables import jobs, notifications
from tests.drills.conftest import Stack
from tests.drills.support import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.backend]

FOLLOWERS = 60
POSTS = 30


def _queue(stack: Stack) -> tuple[int, list[str]]:
    async def read() -> tuple[int, list[str]]:
        async with stack.db.read() as conn:
            count = (await conn.execute(select(func.count()).select_from(jobs))).scalar_one()
            holders = (
                await conn.execute(select(jobs.c.locked_by).where(jobs.c.locked_by.is_not(None)))
            ).scalars()
            return int(count), [str(h) for h in holders]

    result: tuple[int, list[str]] = stack.run(read)
    return result


def _mentions_of(stack: Stack, account_id: int) -> int:
    async def read() -> int:
        async with stack.db.read() as conn:
            query = (
                select(func.count())
                .select_from(notifications)
                .where(notifications.c.account_id == account_id, notifications.c.type == "mention")
            )
            return int((await conn.execute(query)).scalar_one())

    result: int = stack.run(read)
    return result


def test_given_a_worker_killed_mid_fanout_when_another_takes_over_then_timelines_are_complete(
    stack: Stack,
) -> None:
    authors = stack.accounts("author", 2)
    followers = stack.accounts("follower", FOLLOWERS)
    for author in authors:
        stack.follow(followers, author)
    stack.drain_jobs()  # the follows' own jobs: the drill is about the posts'
    for follower in followers:
        assert stack.read_home(follower) == []  # active: their timelines are cached
    mentioned = followers[0]
    posts = [
        stack.post(authors[n % 2], f"post {n} @follower0" if n % 5 == 0 else f"post {n}")
        for n in range(POSTS)
    ]
    total, _ = _queue(stack)

    first = stack.worker("first", job_lease_s="2")
    # Kill it while it holds leases and has done some, but not all, of the work.
    victim = f":{first.pid}:"

    def mid_fanout() -> bool:
        left, holders = _queue(stack)
        return left < total and any(victim in h for h in holders)

    wait_for(mid_fanout, 60, "the first worker to be part-way through")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    left, holders = _queue(stack)
    assert left > 0, "the worker finished before it could be killed"
    orphaned = sum(victim in h for h in holders)

    started = time.monotonic()
    stack.worker("second", job_lease_s="2")
    wait_for(lambda: _queue(stack)[0] == 0, 60, "the second worker to empty the queue")
    if orphaned:
        # The orphaned jobs waited for their lease to run out, no longer.
        assert time.monotonic() - started < 30

    cache = redis.Redis.from_url(stack.settings.redis_url)
    try:
        for follower in followers:
            key = f"{stack.settings.redis_prefix}tl:home:{follower}"
            assert cache.zcard(key) == POSTS + 1  # every post, plus the "complete" marker
    finally:
        cache.close()
    for follower in followers:
        home = stack.read_home(follower, limit=40)
        assert sorted(home) == sorted(posts), f"follower {follower} is missing posts"
        assert len(home) == len(set(home))
    assert _mentions_of(stack, mentioned) == POSTS // 5


def test_given_a_worker_mid_queue_when_sent_sigterm_then_it_exits_cleanly_leaving_no_lease(
    stack: Stack,
) -> None:
    author = stack.accounts("author", 1)[0]
    followers = stack.accounts("follower", 20)
    stack.follow(followers, author)
    stack.drain_jobs()
    for follower in followers:
        stack.read_home(follower)
    posts = [stack.post(author, f"post {n}") for n in range(30)]
    total, _ = _queue(stack)
    worker = stack.worker("graceful", job_lease_s="60")
    wait_for(lambda: _queue(stack)[0] < total, 60, "the worker to start on the queue")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0, stack.log("graceful")
    assert "roost worker: stopped" in stack.log("graceful")
    # Whatever it had claimed but not started is handed back at once, not
    # after its 60-second lease.
    _, holders = _queue(stack)
    assert not [h for h in holders if f":{worker.pid}:" in h]
    stack.drain_jobs()
    assert _queue(stack)[0] == 0
    for follower in followers[:3]:
        assert sorted(stack.read_home(follower)) == sorted(posts)
