"""Handling the search index's jobs (roost/domain/search/jobs.py)."""

from __future__ import annotations

from sqlalchemy import select

from roost.db.tables import statuses
from roost.domain.jobs import JobContext
from roost.domain.search.jobs import Reindex, ReindexAccount, SyncSearch
from roost.jobs.registry import handles
from roost.search.index import BATCH


@handles(SyncSearch)
async def sync_status(ctx: JobContext, job: SyncSearch) -> None:
    async with ctx.db.write() as tx:
        await ctx.search.sync(tx, [job.status_id])


@handles(ReindexAccount)
async def reindex_account(ctx: JobContext, job: ReindexAccount) -> None:
    after = -1
    while True:
        async with ctx.db.write() as tx:
            ids = [
                int(r.id)
                for r in await tx.execute(
                    select(statuses.c.id)
                    .where(
                        statuses.c.account_id == job.account_id,
                        statuses.c.id > after,
                        statuses.c.reblog_of_id.is_(None),
                    )
                    .order_by(statuses.c.id)
                    .limit(BATCH)
                )
            ]
            if not ids:
                return
            await ctx.search.sync(tx, ids)
        after = ids[-1]


@handles(Reindex)
async def reindex(ctx: JobContext, job: Reindex) -> None:
    await ctx.search.rebuild(ctx.db)
