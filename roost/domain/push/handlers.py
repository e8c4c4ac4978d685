"""Handling ``DeliverPush`` (roost/domain/push/jobs.py)."""

from __future__ import annotations

from roost.domain.jobs import JobContext
from roost.domain.push.delivery import deliver
from roost.domain.push.jobs import DeliverPush
from roost.jobs.registry import handles


@handles(DeliverPush)
async def deliver_push(ctx: JobContext, job: DeliverPush) -> None:
    await deliver(ctx.db, ctx.settings, job.subscription_id, job.notification_id)
