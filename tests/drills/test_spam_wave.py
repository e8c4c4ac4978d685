"""Drill (threat 58): a spam wave among ordinary traffic is found.

2,000 ordinary posts by 300 accounts (most of them long established, 30 new
this week) and a wave of 200 near-duplicate posts by 50 accounts signed up
today from two networks with three throwaway mail domains: one
advertisement worded many ways, its link on one of three domains with a new
path each time, mentioning ordinary accounts (tests/spam/corpus.py, the same
every run). Accounts sign up and posts are published through the actions
the API uses (tests/spam/scene.py); the clustering runs in the jobs the
posts leave:

- embedded: the jobs run in the server's own process (SQLite; and on
  PostgreSQL + Redis when those are configured);
- scaled: two ``roost worker`` processes on PostgreSQL + Redis share the
  jobs, with nothing shared between them but the database.

Then at least 90% of the wave is in a cluster staff are shown, and at most
1% of the ordinary posts; the figures are printed. Last, staff suspend the
wave's cluster with one action, and every wave account is suspended.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from roost.db.tables import accounts, jobs
from roost.domain.audit.chain import CONSOLE
from roost.domain.spam import actions
from roost.domain.spam.actions import Decision
from roost.jobs.queue import PARKED
from tests.conftest import Roost
from tests.drills.conftest import Stack
from tests.drills.support import wait_for
from tests.spam.scene import Figures, Scene, figures, set_scene

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


def _check(found: Figures) -> None:
    assert found.wave_rate >= 0.9, found
    assert found.ordinary_rate <= 0.01, found


async def _suspend_the_wave(db: object, settings: object, scene: Scene) -> int:
    async with db.read() as conn:  # type: ignore[attr-defined]
        shown = await actions.clusters(
            conn,
            CONSOLE,
            min_size=settings.spam_cluster_min_size,  # type: ignore[attr-defined]
            new_account_days=settings.spam_new_account_days,  # type: ignore[attr-defined]
        )
    largest = shown[0]
    async with db.write() as tx:  # type: ignore[attr-defined]
        await actions.act(tx, CONSOLE, largest.id, Decision.SUSPEND)
    async with db.read() as conn:  # type: ignore[attr-defined]
        return int(
            (
                await conn.execute(
                    select(func.count())
                    .select_from(accounts)
                    .where(accounts.c.id.in_(scene.wave), accounts.c.suspended_at.is_not(None))
                )
            ).scalar_one()
        )


def test_given_a_wave_among_ordinary_posts_when_jobs_run_in_process_then_it_is_flagged(
    roost: Roost, backend: str
) -> None:
    started = time.perf_counter()
    scene = roost.run(lambda: set_scene(roost.db, roost.settings))
    posted = time.perf_counter()
    roost.drain_jobs()
    drained = time.perf_counter()

    found = roost.run(lambda: figures(roost.db, roost.settings, scene))
    print(
        f"\nspam wave drill, embedded ({backend}): {found}; "
        f"{len(scene.posts)} posts published in {posted - started:.1f} s, "
        f"their jobs run in {drained - posted:.1f} s"
    )
    _check(found)
    suspended = roost.run(lambda: _suspend_the_wave(roost.db, roost.settings, scene))
    assert suspended >= 0.9 * len(scene.wave)


def test_given_a_wave_among_ordinary_posts_when_two_workers_share_the_jobs_then_it_is_flagged(
    stack: Stack,
) -> None:
    scene = stack.run(lambda: set_scene(stack.db, stack.settings))

    async def left(parked: bool) -> int:
        state = jobs.c.state == PARKED if parked else jobs.c.state != PARKED
        async with stack.db.read() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(jobs)
                        .where(jobs.c.kind == "spam.cluster_post", state)
                    )
                ).scalar_one()
            )

    started = time.perf_counter()
    stack.worker("worker-a", outbound_timeout_s="1")
    stack.worker("worker-b", outbound_timeout_s="1")
    wait_for(lambda: stack.run(lambda: left(parked=False)) == 0, 600, "the clustering jobs")
    elapsed = time.perf_counter() - started
    assert stack.run(lambda: left(parked=True)) == 0

    found = stack.run(lambda: figures(stack.db, stack.settings, scene))
    print(
        f"\nspam wave drill, scaled (two workers): {found}; "
        f"the jobs of {len(scene.posts)} posts run in {elapsed:.1f} s"
    )
    _check(found)
    suspended = stack.run(lambda: _suspend_the_wave(stack.db, stack.settings, scene))
    assert suspended >= 0.9 * len(scene.wave)
