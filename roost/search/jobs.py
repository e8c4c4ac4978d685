"""The outbox jobs that keep the search index in step with posts.

``search.sync`` is enqueued by every change to a post (publish, edit, delete)
in the change's own transaction; it reads the post as it now is, so running it
twice, or after a later change, still leaves the index right.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from roost.db.tables import statuses
from roost.jobs.registry import JobContext, handles
from roost.search.index import BATCH, index_for


@handles("search.sync")
async def sync_status(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.write() as tx:
        await index_for(ctx.db.engine.dialect.name).sync(tx, [int(payload["status_id"])])


@handles("search.reindex_account")
async def reindex_account(ctx: JobContext, payload: dict[str, Any]) -> None:
    """An account changed whether it may be found (``indexable``): its posts'
    reach tokens change with it."""
    account_id = int(payload["account_id"])
    index = index_for(ctx.db.engine.dialect.name)
    after = -1
    while True:
        async with ctx.db.write() as tx:
            ids = [
                int(r.id)
                for r in await tx.execute(
                    select(statuses.c.id)
                    .where(
                        statuses.c.account_id == account_id,
                        statuses.c.id > after,
                        statuses.c.reblog_of_id.is_(None),
                    )
                    .order_by(statuses.c.id)
                    .limit(BATCH)
                )
            ]
            if not ids:
                return
            await index.sync(tx, ids)
        after = ids[-1]


@handles("search.reindex")
async def reindex(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Index everything (left by the migration that made the index)."""
    await index_for(ctx.db.engine.dialect.name).rebuild(ctx.db)
