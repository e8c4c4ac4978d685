"""Handling ``PollEnded`` (roost/domain/polls/jobs.py)."""

from __future__ import annotations

from roost.domain.jobs import JobContext
from roost.domain.polls.actions import do_announce_end
from roost.domain.polls.jobs import PollEnded
from roost.jobs.registry import handles


@handles(PollEnded)
async def poll_ended(ctx: JobContext, job: PollEnded) -> None:
    async with ctx.db.write() as tx:
        await do_announce_end(tx, job.poll_id)
