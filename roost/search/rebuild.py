"""Indexing every post again, in short batches: what both engines' ``rebuild`` run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Database, Tx
from roost.db.tables import statuses

Progress = Callable[[int, int], None]


class Syncs(Protocol):
    async def sync(self, tx: Tx, status_ids: list[int]) -> None: ...


# Posts per write transaction when (re)indexing many.
BATCH = 2000


async def indexed_post_count(conn: AsyncConnection) -> int:
    """How many posts belong in the index (every post but boosts)."""
    query = select(func.count()).select_from(statuses).where(statuses.c.reblog_of_id.is_(None))
    return int((await conn.execute(query)).scalar_one())


async def sync_all(db: Database, index: Syncs, progress: Progress | None = None) -> int:
    """Run ``index.sync`` over every post, oldest first, one short transaction
    per batch so writers are never held up for long; returns the posts synced."""
    async with db.read() as conn:
        total = await indexed_post_count(conn)
    done, after = 0, -1
    while True:
        async with db.write() as tx:
            ids = [
                int(r.id)
                for r in await tx.execute(
                    select(statuses.c.id)
                    .where(statuses.c.id > after, statuses.c.reblog_of_id.is_(None))
                    .order_by(statuses.c.id)
                    .limit(BATCH)
                )
            ]
            if not ids:
                break
            await index.sync(tx, ids)
        done += len(ids)
        after = ids[-1]
        if progress is not None:
            progress(done, total)
    return done
