"""Handling ``PublishScheduled`` (roost/domain/scheduled/jobs.py)."""

from __future__ import annotations

from roost.domain.federation.mentions import resolve_mentions
from roost.domain.jobs import JobContext
from roost.domain.scheduled.actions import do_drop_unpublishable, do_publish
from roost.domain.scheduled.jobs import PublishScheduled
from roost.domain.scheduled.queries import scheduled_text
from roost.errors import Forbidden, Invalid, NotFound
from roost.jobs.registry import handles


@handles(PublishScheduled)
async def publish(ctx: JobContext, job: PublishScheduled) -> None:
    # Accounts of other servers it mentions, stored before the post is made
    # (roost/domain/federation/mentions.py).
    async with ctx.db.read() as conn:
        text = await scheduled_text(conn, job.scheduled_status_id)
    if text:
        await resolve_mentions(ctx.db, ctx.settings, text)
    try:
        async with ctx.db.write() as tx:
            await do_publish(
                tx,
                job.scheduled_status_id,
                base_url=ctx.settings.base_url,
                max_chars=ctx.settings.max_post_chars,
            )
    except (Invalid, NotFound, Forbidden) as refused:
        # Refused by the checks a post gets: retrying would be refused again.
        async with ctx.db.write() as tx:
            await do_drop_unpublishable(tx, job.scheduled_status_id, str(refused))
