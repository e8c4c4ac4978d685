"""Handling ``ClusterPost`` (roost/domain/spam/jobs.py): cluster the post and
prune one batch of signatures that have aged out of the window, in one
transaction (one commit a post: on PostgreSQL the commit is much of the cost)."""

from __future__ import annotations

from roost.domain.jobs import JobContext
from roost.domain.spam.clustering import do_cluster_post, do_prune
from roost.domain.spam.jobs import ClusterPost
from roost.jobs.registry import handles


@handles(ClusterPost)
async def cluster_post(ctx: JobContext, job: ClusterPost) -> None:
    if not ctx.settings.spam_clustering:
        return
    async with ctx.db.write() as tx:
        await do_cluster_post(tx, ctx.settings, job.status_id)
        await do_prune(tx, ctx.settings)
