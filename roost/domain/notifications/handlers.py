"""Handling ``Notify`` (roost/domain/notifications/jobs.py)."""

from __future__ import annotations

from roost.domain.jobs import JobContext
from roost.domain.notifications.actions import do_notify
from roost.domain.notifications.jobs import Notify
from roost.domain.timelines import fanout
from roost.jobs.registry import handles


@handles(Notify)
async def notify(ctx: JobContext, job: Notify) -> None:
    async with ctx.db.write() as tx:
        await do_notify(
            tx,
            type=job.type,
            account_id=job.account_id,
            from_account_id=job.from_account_id,
            status_id=job.status_id,
            event_key=job.event_key,
        )
    if job.type == "follow":
        # The one job every new follow leaves: a cached home timeline takes in
        # the followed account's recent posts here.
        await fanout.followed(ctx.db, ctx.timelines, job.from_account_id, job.account_id)
