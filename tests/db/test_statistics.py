"""SQLite's planner statistics follow the data as users make it.

A new instance refreshes its statistics at start-up, holding no posts; its
posts then arrive one at a time through the API. Without a refresh after
they have grown, the planner keeps a picture of empty tables (a home
timeline over 1,200 API-made posts took twice as long as after a refresh).
"""

from __future__ import annotations

import asyncio
import gc
import warnings

from tests.conftest import Roost


def _stat_rows(roost: Roost) -> int:
    async def count() -> int:
        async with roost.db.read() as conn:
            found = await conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'statuses'"
            )
            return int(found.scalar_one())

    return roost.run(count)


def test_given_statistics_of_an_empty_instance_when_posts_arrive_through_the_api_then_a_refresh_becomes_due_and_runs(  # noqa: E501
    roost: Roost,
) -> None:
    if not roost.db.is_sqlite:
        # PostgreSQL's autovacuum analyzes as tables grow.
        assert roost.db.statistics_due() is False
        return
    roost.run(roost.db.refresh_statistics)
    assert _stat_rows(roost) == 0  # nothing to describe yet
    alice = roost.account("alice")
    for n in range(20):
        alice.post_status(f"post {n} #tag{n % 3}")
    assert not roost.db.statistics_due()  # a few posts: not worth it yet

    for n in range(20, 200):
        alice.post_status(f"post {n} #tag{n % 3}")
    assert roost.db.statistics_due()

    async def keep_fresh_briefly() -> None:
        task = asyncio.create_task(roost.db.keep_statistics_fresh(every_s=3600, check_s=0.05))
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
                if not roost.db.statistics_due():
                    return
        finally:
            task.cancel()

    roost.run(keep_fresh_briefly)
    assert not roost.db.statistics_due()
    assert _stat_rows(roost) > 0

    # Due again only once the posts have grown by half as many as there are.
    for n in range(200, 260):
        alice.post_status(f"post {n}")
    assert not roost.db.statistics_due()


def test_given_a_connection_in_use_when_statistics_refresh_then_it_is_replaced_and_none_is_left_open(  # noqa: E501
    roost: Roost,
) -> None:
    """A refresh used to dispose of the engine: a connection in use at that
    moment went back to a pool nobody held, was never closed, and aiosqlite
    warned when it was collected, inside whatever test ran next."""
    if not roost.db.is_sqlite:
        return
    alice = roost.account("alice")
    for n in range(30):
        alice.post_status(f"post {n} #tag{n % 3}")

    async def refresh_while_in_use() -> tuple[object, object, int]:
        async with roost.db.read() as held:
            before = (await held.get_raw_connection()).driver_connection
            await roost.db.refresh_statistics()
        async with roost.db.read() as conn:
            after = (await conn.get_raw_connection()).driver_connection
            seen = await conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1")
            return before, after, int(seen.scalar_one())

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        before, after, stat_rows = roost.run(refresh_while_in_use)
        gc.collect()
    assert [w for w in seen if issubclass(w.category, ResourceWarning)] == []
    assert before is not after  # the pooled connection was replaced, so it reads them
    assert stat_rows > 0
    assert roost.db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
