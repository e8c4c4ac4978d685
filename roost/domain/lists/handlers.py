"""Handling ``ListChanged`` (roost/domain/lists/jobs.py)."""

from __future__ import annotations

from roost.domain.jobs import JobContext
from roost.domain.lists.jobs import ListChanged
from roost.domain.timelines import fanout
from roost.jobs.registry import handles


@handles(ListChanged)
async def list_changed(ctx: JobContext, job: ListChanged) -> None:
    """A cached list timeline (in Redis, whichever process made the change) is
    dropped here, and waits for Redis (RetryLater) like fan-out does."""
    await fanout.list_changed(ctx.timelines, job.account_id, job.list_id)
