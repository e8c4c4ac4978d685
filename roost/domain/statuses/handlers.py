"""Handling the jobs of a post's life (roost/domain/statuses/jobs.py): the
notifications it brings (roost/domain/notifications/announce.py), then the
timelines it goes into or leaves (roost/domain/timelines/fanout.py)."""

from __future__ import annotations

from roost.domain.federation import edits, interactions, notes, quote_requests
from roost.domain.jobs import JobContext
from roost.domain.notifications.announce import do_announce_edit, do_announce_post
from roost.domain.statuses.jobs import StatusDeleted, StatusEdited, StatusPublished
from roost.domain.timelines import fanout
from roost.jobs.registry import handles


@handles(StatusPublished)
async def published(ctx: JobContext, job: StatusPublished) -> None:
    async with ctx.db.write() as tx:
        published = await do_announce_post(tx, job.status_id)
    if published == "gone":
        return
    await fanout.published(ctx.db, ctx.timelines, job.status_id)
    if not ctx.settings.federation:
        return
    # Each of these reads the post again and does nothing for the other kind:
    # only the ones for its kind are called.
    if published == "boost":
        await interactions.announce(ctx, job.status_id)
    else:
        await notes.publish(ctx, job.status_id)
        await quote_requests.send_quote_request(ctx, job.status_id)


@handles(StatusEdited)
async def edited(ctx: JobContext, job: StatusEdited) -> None:
    async with ctx.db.write() as tx:
        await do_announce_edit(tx, job.status_id)
    if ctx.settings.federation:
        await edits.publish_update(ctx, job.status_id)


@handles(StatusDeleted)
async def deleted(ctx: JobContext, job: StatusDeleted) -> None:
    await fanout.deleted(ctx.db, ctx.timelines, job.status_id, job.account_id)
    if ctx.settings.federation and job.reblog_of_id is not None:
        await interactions.unannounce(ctx, job.status_id, job.account_id, job.reblog_of_id)
    elif ctx.settings.federation:
        await notes.withdraw(ctx, job.status_id, job.account_id, job.visibility)
