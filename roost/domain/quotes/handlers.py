"""Handling ``QuotedEdited`` (roost/domain/quotes/jobs.py)."""

from __future__ import annotations

from roost.domain.jobs import JobContext
from roost.domain.quotes.actions import do_tell_quoters
from roost.domain.quotes.jobs import QuotedEdited
from roost.jobs.registry import handles


@handles(QuotedEdited)
async def quoted_edited(ctx: JobContext, job: QuotedEdited) -> None:
    async with ctx.db.write() as tx:
        await do_tell_quoters(tx, job.status_id, job.editor_id, job.edited_at)
