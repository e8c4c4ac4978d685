"""A claim stays fast however long the queue: the rows are picked once.

Given a backlog of 3,000 ready jobs on PostgreSQL, the oldest 1,500 held by
other workers' claims, and the database using the generic plan of the
prepared claim (as it does after five runs of a statement), when a worker
claims, then it takes a batch of the rows nobody holds within a second.
Written as ``id IN (locking subquery)``, the generic plan ran the locking
subquery again for every ready job, skipping the 1,500 held rows each time:
a claim took 3 to 10 s over a 7,000-job backlog and met the statement
timeout, so the queue slowed as it grew.
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import insert, select

from roost.clock import utcnow
from roost.db.tables import jobs
from roost.ids import new_id
from tests.conftest import Roost

BACKLOG, HELD = 3000, 1500


def test_given_a_backlog_held_in_part_when_a_worker_claims_then_it_is_quick(roost: Roost) -> None:
    if roost.db.is_sqlite:
        return  # one writer at a time: nothing is held, nothing skipped
    runner = roost.client.app.state.job_runner  # type: ignore[attr-defined]

    async def scenario() -> tuple[float, set[int], set[int]]:
        start = utcnow() - timedelta(hours=1)
        async with roost.db.write() as tx:
            name = (await tx.conn.exec_driver_sql("SELECT current_database()")).scalar_one()
            await tx.execute(
                insert(jobs),
                [
                    {
                        "id": new_id(),
                        "kind": "notify",
                        "payload": {},
                        "state": "queued",
                        "attempts": 0,
                        "max_attempts": 8,
                        "run_at": start + timedelta(milliseconds=n),
                        "created_at": start,
                    }
                    for n in range(BACKLOG)
                ],
            )
        async with roost.db.engine.connect() as admin:
            admin = await admin.execution_options(isolation_level="AUTOCOMMIT")
            await admin.exec_driver_sql(
                f'ALTER DATABASE "{name}" SET plan_cache_mode = force_generic_plan'
            )
        await roost.db.engine.dispose()  # new connections take the setting
        try:
            async with roost.db.engine.connect() as other:
                held = await other.execute(
                    select(jobs.c.id).order_by(jobs.c.run_at).limit(HELD).with_for_update()
                )
                held_ids = {int(row.id) for row in held}
                started = time.perf_counter()
                claimed = await runner.claim()
                seconds = time.perf_counter() - started
                await other.rollback()
        finally:
            async with roost.db.engine.connect() as admin:
                admin = await admin.execution_options(isolation_level="AUTOCOMMIT")
                await admin.exec_driver_sql(f'ALTER DATABASE "{name}" RESET plan_cache_mode')
            await roost.db.engine.dispose()
        return seconds, held_ids, {int(job["id"]) for job in claimed}

    seconds, held, claimed = roost.run(scenario)
    assert len(claimed) == runner.batch
    assert not claimed & held
    assert seconds < 1.0, f"a claim took {seconds:.2f}s"
